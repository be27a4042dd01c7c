"""Image grids and PNG files with Pillow; images are float arrays in [-1, 1] or uint8."""

import math
import os

import numpy as np
from PIL import Image

from rbvae_tf.files import check_can_create, write_atomically

MIN_TILE = 64  # pixels: grids of smaller images are enlarged to at least this tile size


def tile_scale(image_size, min_tile=MIN_TILE):
    """Integer zoom that makes tiles of `image_size` pixels at least `min_tile` pixels wide.

    The one grid zoom: 4 at 16 px, 2 at 32 and 48 px, 1 from 64 px.

    Example:
    >>> [tile_scale(size) for size in (16, 32, 48, 64)]
    [4, 2, 2, 1]
    """
    return max(1, math.ceil(min_tile / image_size))


def to_uint8(images):
    """float images in [-1, 1] (or uint8, returned as is) -> uint8 in [0, 255]."""
    images = np.asarray(images)
    if images.dtype == np.uint8:
        return images
    return np.clip(np.round((images + 1.0) * 127.5), 0, 255).astype(np.uint8)


def make_grid(rows, pad=1):
    """A list of rows, each a list/array of (H, W, 3) images, as one uint8 (H', W', 3) array."""
    rows = [to_uint8(np.stack(list(r))) for r in rows]
    n_cols = max(len(r) for r in rows)
    h, w = rows[0].shape[1:3]
    grid = np.zeros((len(rows) * (h + pad) + pad, n_cols * (w + pad) + pad, 3), np.uint8)
    for i, row in enumerate(rows):
        for j, image in enumerate(row):
            top, left = pad + i * (h + pad), pad + j * (w + pad)
            grid[top : top + h, left : left + w] = image
    return grid


def save_png(array, path, scale=1):
    """Writes a uint8 (H, W, 3) array as PNG, atomically (temporary name, then rename)."""
    image = Image.fromarray(to_uint8(array))
    if scale != 1:
        image = image.resize((image.width * scale, image.height * scale), Image.NEAREST)
    check_can_create(path, "write")
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    write_atomically(path, lambda stream: image.save(stream, format="PNG"))
    return path

"""User image folders: PNG, JPEG or BMP of any size, grey or colour, read as RGB S x S.

Every image is centre-cropped to a square and resized with area interpolation (exact pixel
coverage, `tf.image.resize(method="area")`) to S x S. Training folders stream through tf.data
(`image_folder_dataset`), so a 150k-image folder is never held in memory; small sets
(`load_images`) are decoded by Pillow and resized with the same area matrices in numpy, so
both give the same pixels up to JPEG decoder rounding (a few levels). Pillow's own BOX
filter is not used: it samples pixel centres instead of integrating coverage.

Bad files are found up front: listing a folder opens every file with Pillow, which reads
headers only (about 0.1 ms a file, some 15 s for 150k files), and raises UserError naming
the first file that is not a PNG, JPEG or BMP that TensorFlow decodes. A file whose header is
fine but whose pixel data are truncated passes that check; `check_images(files, full=True)`
decodes everything (opt-in, slow for huge folders).
"""

import os
import pathlib

import numpy as np
import tensorflow as tf
from PIL import Image, UnidentifiedImageError

from rbvae_tf.data.checks import check_size
from rbvae_tf.data.render import area_matrices, resample
from rbvae_tf.errors import UserError

EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp")
FORMATS = ("PNG", "JPEG", "BMP")
BMP_MODES = ("L", "RGB", "RGBA")  # TF's BMP decoder reads no palette and no 1-bit images
_DECODE_ERRORS = (OSError, UnidentifiedImageError, SyntaxError, ValueError, Image.DecompressionBombError)


def list_images(directory):
    """Lists the PNG/JPEG/BMP files under `directory`, recursively, sorted by path.

    Args:
        directory: str or pathlib.Path.

    Returns:
        list of str paths (at least one).
    """
    directory = pathlib.Path(directory).expanduser()
    try:
        os.stat(directory)
    except FileNotFoundError:
        raise UserError(f"image folder not found: {directory}") from None
    except OSError as error:  # e.g. a symlink loop, a path through a file
        raise UserError(f"cannot read folder {directory}: {error.strerror}") from None
    if not directory.is_dir():
        raise UserError(f"{directory} is a file, not a folder of images")

    def unreadable(error):
        raise UserError(f"cannot read folder {error.filename}: {error.strerror}")

    files = [
        os.path.join(root, name)
        for root, _, names in os.walk(directory, onerror=unreadable)
        for name in names
        if name.lower().endswith(EXTENSIONS)
    ]
    if not files:
        raise UserError(f"no PNG/JPEG/BMP images in {directory}")
    return sorted(files)


def check_images(files, full=False):
    """Raises UserError naming the first file that is not an image TensorFlow can decode.

    Args:
        files: list of str or pathlib.Path.
        full: bool. Decode the pixel data too (catches truncated files; slow). Defaults to
            False: read the headers only.
    """
    for file in files:
        try:
            with Image.open(file) as image:
                if image.format not in FORMATS:
                    raise UserError(f"{file} is a {image.format} image, not PNG, JPEG or BMP")
                if image.format == "BMP" and image.mode not in BMP_MODES:
                    raise UserError(f"{file}: palette or 1-bit BMP is not supported, use PNG")
                if full:
                    image.load()
        except FileNotFoundError:
            raise UserError(f"image not found: {file}") from None
        except _DECODE_ERRORS as error:
            raise UserError(f"cannot decode image {file}: {error}") from None


def _square_resize(image, size):
    """Centre-crops a uint8 (H, W, 3) tensor to a square and area-resizes it to `size`."""
    shape = tf.shape(image)
    side = tf.minimum(shape[0], shape[1])
    image = tf.image.crop_to_bounding_box(image, (shape[0] - side) // 2, (shape[1] - side) // 2, side, side)
    image = tf.image.resize(image, [size, size], method="area")
    return tf.ensure_shape(tf.cast(tf.round(image), tf.uint8), [size, size, 3])


def decode_file(path, size):
    """Reads one PNG/JPEG/BMP file as a uint8 (size, size, 3) tensor (tf ops, for tf.data).

    Args:
        path: tf.Tensor string. File path.
        size: int. Output side.

    Returns:
        tf.Tensor uint8 (size, size, 3).
    """
    image = tf.io.decode_image(tf.io.read_file(path), channels=3, expand_animations=False)
    return _square_resize(image, size)


def image_folder_dataset(directory, size, shuffle_seed=None, check=True):
    """Streams the images of a folder as uint8 (size, size, 3) tensors.

    Args:
        directory: str or pathlib.Path. Searched recursively for PNG/JPEG/BMP files.
        size: int. Output side, a positive multiple of 16.
        shuffle_seed: int or None. Shuffle the file order (before decoding, reshuffled each
            epoch) with this seed; None keeps the sorted order. Defaults to None.
        check: bool. Header-check every file with `check_images` first. Defaults to True.

    Returns:
        tf.data.Dataset of uint8 (size, size, 3) with known cardinality.

    Example:
    >>> dataset = image_folder_dataset("faces/", 64, shuffle_seed=0)  # doctest: +SKIP
    """
    size = check_size(size)
    files = list_images(directory)
    if check:
        check_images(files)
    dataset = tf.data.Dataset.from_tensor_slices(files)
    if shuffle_seed is not None:
        dataset = dataset.shuffle(len(files), seed=shuffle_seed, reshuffle_each_iteration=True)
    return dataset.map(lambda path: decode_file(path, size), num_parallel_calls=tf.data.AUTOTUNE)


def _pillow_rgb(image):
    """Converts a Pillow image of any mode to RGB (16-bit grey is scaled, not clipped)."""
    if image.mode in ("I", "I;16", "I;16B", "I;16L"):
        grey = np.asarray(image, np.float64) / 257.0
        image = Image.fromarray(np.clip(np.rint(grey), 0, 255).astype(np.uint8))
    return image.convert("RGB")


def load_images(paths, size):
    """Loads a few images with Pillow as one uint8 array.

    Args:
        paths: list of str or pathlib.Path. Any format Pillow reads.
        size: int. Output side, a positive multiple of 16.

    Returns:
        np.ndarray uint8 (N, size, size, 3): centre square, area resized.
    """
    size = check_size(size)
    images = []
    for path in paths:
        try:
            with Image.open(path) as image:
                pixels = np.asarray(_pillow_rgb(image), np.float32)
        except FileNotFoundError:
            raise UserError(f"image not found: {path}") from None
        except _DECODE_ERRORS as error:
            raise UserError(f"cannot decode image {path}: {error}") from None
        height, width = pixels.shape[:2]
        side = min(height, width)
        top, left = (height - side) // 2, (width - side) // 2
        square = pixels[top : top + side, left : left + side].transpose(2, 0, 1)
        resized = resample(square, area_matrices(side, size, [size / side]))
        images.append(np.rint(resized).clip(0, 255).astype(np.uint8).transpose(1, 2, 0))
    return np.stack(images) if images else np.zeros((0, size, size, 3), np.uint8)


def load_probe_folder(directory, size):
    """Loads a labelled folder: each sub-folder is a class, named by its folder name.

    Images are decoded like `image_folder_dataset` (tf), so probes see the same pixels as
    training. Files directly in `directory` are ignored.

    Args:
        directory: str or pathlib.Path. Holds one sub-folder per class.
        size: int. Output side, a positive multiple of 16.

    Returns:
        dict with `images` uint8 (N, size, size, 3), `labels` int64 (N,) indexing
        `class_names`, and `class_names` (sorted sub-folder names).
    """
    size = check_size(size)
    directory = pathlib.Path(directory).expanduser()
    if not directory.is_dir():
        raise UserError(f"probe folder not found: {directory}")
    try:
        class_names = sorted(entry.name for entry in os.scandir(directory) if entry.is_dir())
    except OSError as error:
        raise UserError(f"cannot read folder {directory}: {error.strerror}") from None
    if not class_names:
        raise UserError(f"probe folder {directory} has no class sub-folders")
    files, labels = [], []
    for label, name in enumerate(class_names):
        class_files = list_images(directory / name)
        files += class_files
        labels += [label] * len(class_files)
    check_images(files)
    dataset = tf.data.Dataset.from_tensor_slices(files)
    dataset = dataset.map(lambda path: decode_file(path, size), num_parallel_calls=tf.data.AUTOTUNE)
    images = np.concatenate([batch.numpy() for batch in dataset.batch(1024)])
    return {"images": images, "labels": np.asarray(labels, np.int64), "class_names": class_names}

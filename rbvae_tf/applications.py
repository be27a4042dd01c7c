"""Applications of the e/z split (Sec. 5.4 of Ruiz et al., arXiv 1901.08534): conditional image
synthesis (Fig. 3) and attribute transfer (Fig. 4).

Both need a reference-based model (rbvae, srbvae): z, the common factors, is inferred from one
image (posterior mean) and e, the target factors, is either sampled from N(0, I) or inferred from
another image. Unsupervised models raise `UserError`.

Grids are uint8 arrays from `imaging.make_grid`; `save_grid` enlarges small tiles (nearest
neighbour) to at least `MIN_TILE` pixels so that a 16 or 32 px grid is readable.

Example:
>>> from rbvae_tf.models import build_model
>>> model = build_model("srbvae", image_size=16, width=0.125, target_dim=4, common_dim=4)
>>> images = np.zeros((3, 16, 16, 3), np.uint8)
>>> conditional_grid(model, images, num_targets=5).shape  # 3 rows, 2 + 5 columns of 16 px + padding
(52, 120, 3)
"""

import pathlib

import numpy as np

from rbvae_tf import data as data_lib
from rbvae_tf.batching import in_batches, posterior_means
from rbvae_tf.errors import UserError
from rbvae_tf.imaging import MIN_TILE, make_grid, save_png, tile_scale, to_uint8
from rbvae_tf.models.base import require_split  # noqa: F401  (also imported from here by the CLI)


def _check_images(model, images, what):
    images = np.asarray(images)
    size = model.image_size
    if images.ndim != 4 or images.shape[1:] != (size, size, 3):
        raise UserError(f"{what}: expected images of shape (N, {size}, {size}, 3), got {images.shape}")
    if not len(images):
        raise UserError(f"{what}: no images")
    return images


def _generate(model, z, e):
    """G(z, e) in batches, as a float numpy array in [-1, 1]."""
    return in_batches(model.generate, z, e)


def transfer(model, content, style):
    """Attribute transfer: G(mean z(content_i), mean e(style_i)) for each pair i.

    Args:
        model: a reference-based LatentModel.
        content: uint8 or float images (N, S, S, 3): give the common factors z (e.g. the digit).
        style: images of the same shape: give the target factors e (e.g. colour, scale, width).

    Returns:
        float32 images (N, S, S, 3) in [-1, 1].
    """
    require_split(model, "transfer")
    content, style = _check_images(model, content, "content"), _check_images(model, style, "style")
    if len(content) != len(style):
        raise UserError(f"transfer pairs content and style images: got {len(content)} and {len(style)}")
    return _generate(model, posterior_means(model.encode_common, content), posterior_means(model.encode_target, style))


def transfer_grid(model, content, style):
    """Every content image with every style image (paper Fig. 4) as one uint8 grid.

    Row 0 holds the style images (top-left corner blank), column 0 the content images, and
    cell (i, j) the transfer of style j onto content i.

    Returns:
        uint8 (H, W, 3) array from `imaging.make_grid`.
    """
    require_split(model, "transfer")
    content, style = _check_images(model, content, "content"), _check_images(model, style, "style")
    z, e = posterior_means(model.encode_common, content), posterior_means(model.encode_target, style)
    n, m = len(z), len(e)
    out = to_uint8(_generate(model, np.repeat(z, m, axis=0), np.tile(e, (n, 1))))
    out = out.reshape((n, m) + out.shape[1:])
    blank = np.zeros_like(out[0, 0])
    rows = [[blank, *to_uint8(style)]]
    rows += [[to_uint8(content[i]), *out[i]] for i in range(n)]
    return make_grid(rows)


def conditional_generation(model, images, num_targets=8, seed=0):
    """Conditional synthesis (paper Fig. 3): each image's z with random target vectors e ~ N(0, I).

    Args:
        model: a reference-based LatentModel.
        images: uint8 or float images (N, S, S, 3).
        num_targets: int. Number of sampled target vectors e, shared by all images. Defaults to 8.
        seed: int. Seed of the sampled e. Defaults to 0.

    Returns:
        dict of float32 arrays in [-1, 1]: `reference` (N, S, S, 3), the reference versions
        G(z, e_r), and `samples` (N, num_targets, S, S, 3), G(z_i, e_j).
    """
    require_split(model, "conditional generation")
    images = _check_images(model, images, "images")
    if num_targets < 1:
        raise UserError(f"the number of sampled target vectors must be at least 1, got {num_targets}")
    e = np.random.default_rng(seed).standard_normal((num_targets, model.target_dim)).astype(np.float32)
    z = posterior_means(model.encode_common, images)
    n = len(z)
    reference = _generate(model, z, np.asarray(model.reference_latent(n)))
    samples = _generate(model, np.repeat(z, num_targets, axis=0), np.tile(e, (n, 1)))
    return {"reference": reference, "samples": samples.reshape((n, num_targets) + samples.shape[1:])}


def conditional_grid(model, images, num_targets=8, seed=0):
    """`conditional_generation` as one uint8 grid: a row per image; columns: the input, its reference
    version G(z, e_r), then one column per sampled e (the same e down each column)."""
    result = conditional_generation(model, images, num_targets, seed)
    rows = [
        [to_uint8(image), to_uint8(reference), *to_uint8(samples)]
        for image, reference, samples in zip(np.asarray(images), result["reference"], result["samples"])
    ]
    return make_grid(rows)


def pick(images, count, seed=0):
    """`count` distinct images drawn with `seed` (all of them, shuffled, if there are fewer)."""
    rng = np.random.default_rng(seed)
    return images[rng.permutation(len(images))[:count]]


def save_grid(grid, path, image_size, min_tile=MIN_TILE):
    """Saves a grid of `image_size` tiles as PNG, zoomed by `tile_scale`, atomically."""
    return save_image(grid, path, tile_scale(image_size, min_tile))


def save_image(array, path, scale=1):
    """`imaging.save_png` with OS errors (bad folder, no permission) as UserError."""
    try:
        return save_png(array, path, scale)
    except OSError as error:
        raise UserError(f"cannot write {path}: {error.strerror or error}") from None


def probe_test_images(model, info=None, mnist=None, data_seed=None, limit=None, data=None):
    """The MNIST-style `probe_test` images at the model's size: of the built folder `data`, else of
    the run's data (`loading.mnist_style_source`)."""
    from rbvae_tf.loading import mnist_style_source

    folder, cap = mnist_style_source(model, info, data, mnist, data_seed, limit)
    return data_lib.load_split(folder, "probe_test", cap)["images"]


def split_pick(images, count, seed=0):
    """Two disjoint sets of `count` images drawn with `seed` (content and style of a transfer grid)."""
    if len(images) < 2 * count:
        raise UserError(f"a transfer grid of {count} needs {2 * count} images, the probe set has {len(images)}")
    chosen = pick(images, 2 * count, seed)
    return chosen[:count], chosen[count:]


def _image_files(paths):
    """Files named on the command line; a folder stands for the images in it (sorted)."""
    files = []
    for path in paths:
        files += data_lib.list_images(path) if pathlib.Path(path).is_dir() else [path]
    return files


def write_conditional_grid(
    model,
    out,
    image_files=(),
    rows=6,
    num_targets=8,
    seed=0,
    info=None,
    mnist=None,
    data_seed=None,
    limit=None,
    data=None,
):
    """The `generate` command: a conditional-generation grid (Fig. 3) written to `out` as PNG.

    Rows are the images of `image_files` (files or folders), or else `rows` images of the MNIST-style
    probe_test split drawn with `seed`. Returns (path, a description of the grid).
    """
    require_split(model, "conditional generation")
    if image_files:
        images = data_lib.load_images(_image_files(image_files), model.image_size)
    else:
        images = pick(probe_test_images(model, info, mnist, data_seed, limit, data), rows, seed)
    path = save_grid(conditional_grid(model, images, num_targets, seed), out, model.image_size)
    return path, f"{len(images)} rows x {num_targets + 2} columns"


def write_transfer(
    model,
    out,
    content_files=(),
    style_files=(),
    grid=None,
    seed=0,
    info=None,
    mnist=None,
    data_seed=None,
    limit=None,
    data=None,
):
    """The `transfer` command: attribute transfer (Fig. 4) written to `out` as PNG.

    - one content and one style file: the transferred image alone, at the model's size;
    - several of either: a grid, content down the side, style across the top (zoomed tiles);
    - `grid=N` (no files): an N x N grid of probe_test images drawn with `seed`.

    Returns (path, what was written).
    """
    require_split(model, "transfer")
    if grid is not None:
        if content_files or style_files:
            raise UserError("use either --grid or --content/--style, not both")
        content, style = split_pick(probe_test_images(model, info, mnist, data_seed, limit, data), grid, seed)
    else:
        if not content_files or not style_files:
            raise UserError("transfer needs at least one --content and one --style image (or --grid)")
        content = data_lib.load_images(_image_files(content_files), model.image_size)
        style = data_lib.load_images(_image_files(style_files), model.image_size)
        if len(content) == len(style) == 1:
            return save_image(to_uint8(transfer(model, content, style)[0]), out), "1 image"
    path = save_grid(transfer_grid(model, content, style), out, model.image_size)
    return path, f"{len(content)} x {len(style)} grid"

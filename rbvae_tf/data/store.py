"""Files of the MNIST-style data set: one `.npz` per split, a preview PNG and a build cache.

Every file is written under a temporary name in the same folder and then moved into place
with `os.replace`, so an existing file is never half-written, and an error leaves it intact.
Arrays are read back with `allow_pickle=False`.
"""

import hashlib
import json
import os
import pathlib
import time

import numpy as np

from rbvae_tf.data.checks import check_limit, check_padding, check_reference_width, check_seed, check_size
from rbvae_tf.data.mnist import load_mnist, mnist_source_id
from rbvae_tf.data.mnist_style import build_mnist_style
from rbvae_tf.errors import UserError
from rbvae_tf.files import make_folder as _make_folder
from rbvae_tf.files import publish_folder
from rbvae_tf.files import write_atomically as _replace_into
from rbvae_tf.imaging import make_grid, save_png, tile_scale

BUILD_VERSION = 1  # bump when the images of a given (size, seed, limit, source) change
ARRAYS = ("images", "factors", "factor_names", "labels")
# the build arguments of a folder: size, seed, limit, source, version (+ reference_width, padding)
META = "meta.json"


def write_mnist_style(out_dir, splits):
    """Writes each split to `out_dir/<split>.npz` (uncompressed `np.savez`).

    Args:
        out_dir: str or pathlib.Path. Created if missing.
        splits: dict split name -> dict with `images`, `factors`, `factor_names`, `labels`.

    Returns:
        list of pathlib.Path written, in the order of `splits`.
    """
    out_dir = _make_folder(out_dir)
    written = []
    for name, split in splits.items():
        arrays = {key: np.asarray(split[key]) for key in ARRAYS}
        arrays["factor_names"] = np.asarray(split["factor_names"], dtype=np.str_)
        written.append(_replace_into(out_dir / f"{name}.npz", lambda f: np.savez(f, **arrays)))
    return written


def load_split(directory, split, limit=None):
    """Reads one split written by `write_mnist_style`.

    Args:
        directory: str or pathlib.Path. The folder given to `write_mnist_style`.
        split: str. One of `reference`, `unlabelled`, `probe_train`, `probe_test`.
        limit: int or None. Keep the first `limit` images only (those a build with that limit
            has: a build's splits are prefixes of the uncapped ones). Defaults to None (all).

    Returns:
        dict with `images` uint8 (N, S, S, 3), `factors` float32 (N, 5), `factor_names` list
        of str and `labels` int64 (N,).
    """
    path = pathlib.Path(directory).expanduser() / f"{split}.npz"
    if not path.is_file():
        raise UserError(f"no split {split!r} in {directory} (missing {path.name})")
    try:
        with np.load(path, allow_pickle=False) as npz:
            split_data = {key: npz[key] for key in ARRAYS}
    except Exception as error:  # zip, zlib, pickle-refusal and key errors alike
        raise UserError(f"cannot read {path}: {error}") from None
    split_data["factor_names"] = [str(name) for name in split_data["factor_names"]]
    if check_limit(limit) is not None:
        split_data.update({key: split_data[key][:limit] for key in ("images", "factors", "labels")})
    return split_data


def build_arguments(size, seed, limit, mnist_path, reference_width=1, padding="centre"):
    """The `meta.json` of a build: what decides its images (`cached_mnist_style` keys its cache by it)."""
    meta = {"size": check_size(size), "seed": check_seed(seed), "limit": check_limit(limit)}
    check_reference_width(reference_width)
    check_padding(padding)
    meta.update(source=mnist_source_id(mnist_path), version=BUILD_VERSION)
    if reference_width != 1:  # the defaults are left out, so the keys of earlier caches stay the same
        meta["reference_width"] = reference_width
    if padding != "centre":
        meta["padding"] = padding
    return meta


def read_built(directory, image_size=None, needed_by="the model", hint=None):
    """The build arguments of a folder written by `make_mnist_style` (or the cache), checked.

    Args:
        directory: str or pathlib.Path. A folder of `python cli.py data mnist-style --out-dir`.
        image_size: int or None. The size the caller needs: a folder built at another size is a
            UserError, never resized. Defaults to None (no check).
        needed_by: str. Who needs that size, for the message. Defaults to `"the model"`.
        hint: str or None. What to do about a wrong size. Defaults to None: build it again at that size.

    Returns:
        dict with `size`, `seed`, `limit`, `reference_width` (1 when the file omits it), `padding`
        ("centre" when the file omits it), `source` and `version`.
    """
    directory = pathlib.Path(directory).expanduser()
    if not directory.is_dir():
        raise UserError(
            f"--data {directory}: no such folder (build one with "
            f"`python cli.py data mnist-style --out-dir {directory}`)"
        )
    try:
        meta = json.loads((directory / META).read_text())
        meta["size"], meta["seed"], meta.setdefault("limit", None)
    except (OSError, ValueError, KeyError, TypeError):
        raise UserError(
            f"--data {directory} is not a built MNIST-style folder (no readable {META}); build it "
            f"with `python cli.py data mnist-style --out-dir {directory}`"
        ) from None
    meta.setdefault("reference_width", 1)
    meta.setdefault("padding", "centre")
    if meta.get("version") != BUILD_VERSION:
        raise UserError(
            f"--data {directory} was built by another version of the data code (build "
            f"{meta.get('version')}, this is {BUILD_VERSION}): build it again"
        )
    if image_size is not None and meta["size"] != image_size:
        raise UserError(
            f"--data {directory} was built at {meta['size']} px, but {needed_by} is {image_size} px: "
            + (hint or f"build one with `python cli.py data mnist-style --image-size {image_size}`")
        )
    return meta


def preview_png(splits, path, columns=10, rows=3):
    """Writes a grid like the paper's Fig. 5: reference rows on top, unlabelled rows below.

    Tiles smaller than 64 px are enlarged (nearest, `imaging.tile_scale`); a grey band separates the parts.

    Args:
        splits: dict with at least `reference` and `unlabelled` splits.
        path: str or pathlib.Path. PNG file to write.
        columns: int. Images per row. Defaults to 10.
        rows: int. Rows of each of the two parts. Defaults to 3.

    Returns:
        pathlib.Path written.
    """
    parts = []
    for name in ("reference", "unlabelled"):
        images = splits[name]["images"][: columns * rows]
        tiles = np.zeros((rows * columns,) + images.shape[1:], np.uint8)  # black where images run out
        tiles[: len(images)] = images
        parts.append(make_grid([tiles[r * columns : (r + 1) * columns] for r in range(rows)], pad=0))
    band = np.full((max(2, parts[0].shape[0] // (rows * 16)), parts[0].shape[1], 3), 128, np.uint8)
    sheet = np.concatenate([parts[0], band, parts[1]])
    save_png(sheet, path, scale=tile_scale(splits["reference"]["images"].shape[1]))
    return pathlib.Path(path)


def make_mnist_style(
    out_dir, size=64, seed=0, limit=None, mnist_path=None, preview=False, reference_width=1, padding="centre"
):
    """Loads MNIST, builds the MNIST-style splits and writes them (the `data mnist-style` command).

    Args:
        out_dir: str or pathlib.Path. Output folder, created if missing.
        size: int. Image side, a positive multiple of 16. Defaults to 64.
        seed: int. Defaults to 0.
        limit: int or None. Cap on each split. Defaults to None.
        mnist_path: str, pathlib.Path or None. As for `load_mnist`.
        preview: bool. Also write `out_dir/preview.png`. Defaults to False.
        reference_width: int. Outline width of the reference images at 64 px. Defaults to 1.
        padding: str. Where a shrunk digit sits in its zero padding: "centre" or "corner".

    Returns:
        list of pathlib.Path written: the splits, the preview, and last `meta.json`, the build
        arguments that `read_built` checks when a command reads the folder (`--data`).
    """
    meta = build_arguments(size, seed, limit, mnist_path, reference_width, padding)
    splits = build_mnist_style(
        load_mnist(mnist_path), size=size, seed=seed, limit=limit, reference_width=reference_width, padding=padding
    )
    out_dir = _make_folder(out_dir)
    (out_dir / META).unlink(missing_ok=True)  # a rebuild cut short must not pass for the former build
    written = write_mnist_style(out_dir, splits)
    if preview:
        written.append(preview_png(splits, pathlib.Path(out_dir).expanduser() / "preview.png"))
    written.append(
        _replace_into(pathlib.Path(out_dir).expanduser() / META, lambda f: f.write(json.dumps(meta, indent=1).encode()))
    )
    return written


def cache_root():
    """The cache folder: `$RBVAE_CACHE`, defaulting to `~/.cache/rbvae_tf`."""
    return pathlib.Path(os.environ.get("RBVAE_CACHE") or "~/.cache/rbvae_tf").expanduser()


def mnist_style_key(size=64, seed=0, limit=None, mnist_path=None, reference_width=1, padding="centre"):
    """(key, meta): the name of the cache folder of `cached_mnist_style` for these arguments, and the
    arguments it hashes (size, seed, limit, the MNIST source's content hash, `BUILD_VERSION`, and the
    reference width and padding when they are not the defaults)."""
    meta = build_arguments(size, seed, limit, mnist_path, reference_width, padding)
    return hashlib.sha1(json.dumps(meta, sort_keys=True).encode()).hexdigest()[:16], meta


def cached_mnist_style(size=64, seed=0, limit=None, mnist_path=None, reference_width=1, padding="centre"):
    """Builds the MNIST-style splits once and returns the cached folder afterwards.

    The folder is `cache_root()/mnist_style/<key>`, keyed by size, seed, limit, the content
    hash of the MNIST source and `BUILD_VERSION`. It is built in a temporary folder and renamed
    into place, so it exists only when complete; `meta.json` inside records the arguments.

    Args:
        size: int. Image side, a positive multiple of 16. Defaults to 64.
        seed: int. Defaults to 0.
        limit: int or None. Cap on each split. Defaults to None.
        mnist_path: str, pathlib.Path or None. As for `load_mnist`.
        reference_width: int. Outline width of the reference images at 64 px. Defaults to 1.
        padding: str. Where a shrunk digit sits in its zero padding: "centre" (the default) or "corner".

    Returns:
        pathlib.Path of the folder holding `<split>.npz` for every split.
    """
    key, meta = mnist_style_key(size, seed, limit, mnist_path, reference_width, padding)
    folder = cache_root() / "mnist_style" / key
    if (folder / "meta.json").is_file():
        return folder

    def build(temporary):
        started = time.perf_counter()
        splits = build_mnist_style(
            load_mnist(mnist_path), size=size, seed=seed, limit=limit, reference_width=reference_width, padding=padding
        )
        write_mnist_style(temporary, splits)
        meta["build_seconds"] = round(time.perf_counter() - started, 1)
        (temporary / "meta.json").write_text(json.dumps(meta, indent=1))

    return publish_folder(folder, build, "meta.json")

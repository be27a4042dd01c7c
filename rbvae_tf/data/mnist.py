"""MNIST source: the Keras `mnist.npz` or the four original IDX files (plain or gzip).

Lookup order when no path is given: `$RBVAE_MNIST`, `~/.keras/datasets/mnist.npz`, then the
copy bundled with the repository at `zoo/data/mnist.npz` (LeCun, Cortes and Burges,
CC BY-SA 3.0, see `zoo/data/NOTICE`).
"""

import gzip
import hashlib
import os
import pathlib
import struct
import zipfile
import zlib

import numpy as np

from rbvae_tf.errors import UserError

BUNDLED_MNIST = pathlib.Path(__file__).resolve().parents[2] / "zoo" / "data" / "mnist.npz"
KEYS = ("x_train", "y_train", "x_test", "y_test")
IDX_NAMES = {
    "x_train": "train-images-idx3-ubyte",
    "y_train": "train-labels-idx1-ubyte",
    "x_test": "t10k-images-idx3-ubyte",
    "y_test": "t10k-labels-idx1-ubyte",
}
_READ_ERRORS = (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile, zlib.error)


def resolve_mnist_path(path=None):
    """Finds the MNIST file or IDX folder to read.

    Args:
        path: str, pathlib.Path or None. An `mnist.npz` or a folder of IDX files. Defaults to
            `$RBVAE_MNIST`, then `~/.keras/datasets/mnist.npz`, then the bundled copy.

    Returns:
        pathlib.Path that exists.
    """
    if path is None:
        path = os.environ.get("RBVAE_MNIST") or None
    if path is None:
        keras_copy = pathlib.Path("~/.keras/datasets/mnist.npz").expanduser()
        path = keras_copy if keras_copy.is_file() else BUNDLED_MNIST
    path = pathlib.Path(path).expanduser()
    if not path.exists():
        raise UserError(f"MNIST not found: {path} (pass an mnist.npz or a folder of IDX files)")
    return path


def _idx_files(folder):
    """Maps each MNIST key to its IDX file in `folder`, plain or `.gz`."""
    files = {}
    for key, name in IDX_NAMES.items():
        candidates = [folder / name, folder / f"{name}.gz"]
        found = [c for c in candidates if c.is_file()]
        if not found:
            raise UserError(f"MNIST folder {folder} has no {name} (or {name}.gz)")
        files[key] = found[0]
    return files


def read_idx(path):
    """Reads one IDX file of unsigned bytes (the original MNIST format), plain or gzip.

    Args:
        path: pathlib.Path. The file; a `.gz` suffix means gzip.

    Returns:
        np.ndarray of uint8 with the dimensions stored in the header.
    """
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as stream:
            raw = stream.read()
    except _READ_ERRORS as error:
        raise UserError(f"cannot read MNIST file {path}: {error}") from None
    if len(raw) < 4 or raw[:3] != b"\x00\x00\x08":
        raise UserError(f"{path} is not an IDX file of unsigned bytes")
    start = 4 + 4 * raw[3]
    if len(raw) < start:
        raise UserError(f"{path} is truncated (incomplete IDX header)")
    dims = struct.unpack(f">{raw[3]}I", raw[4:start])
    if len(raw) - start != int(np.prod(dims)):
        raise UserError(f"{path} is truncated or corrupt: header says {dims}")
    return np.frombuffer(raw, np.uint8, offset=start).reshape(dims).copy()


def _read_npz(path):
    """Reads the four arrays of a Keras-layout `mnist.npz` (never unpickles)."""
    try:
        with np.load(path, allow_pickle=False) as npz:
            if set(KEYS) - set(npz.files):
                raise UserError(
                    f"{path} is not an mnist.npz (expected {', '.join(KEYS)}, "
                    f"got {', '.join(npz.files) or 'no arrays'})"
                )
            return {key: np.asarray(npz[key]) for key in KEYS}
    except UserError:
        raise
    except AttributeError:  # np.load gave a plain array: a .npy, not an .npz
        raise UserError(f"{path} is not an mnist.npz (expected {', '.join(KEYS)})") from None
    except _READ_ERRORS as error:
        raise UserError(f"cannot read MNIST file {path}: {error}") from None


def _check_arrays(mnist, path):
    """Raises UserError unless the arrays look like MNIST (28x28 uint8 digits, labels 0..9)."""
    for split in ("train", "test"):
        x, y = mnist[f"x_{split}"], mnist[f"y_{split}"]
        if x.dtype != np.uint8 or x.ndim != 3 or x.shape[1:] != (28, 28) or not len(x):
            raise UserError(f"{path}: x_{split} must be uint8 (N, 28, 28), got {x.dtype} {x.shape}")
        if y.ndim != 1 or len(y) != len(x) or (y.size and (y.min() < 0 or y.max() > 9)):
            raise UserError(f"{path}: y_{split} must hold {len(x)} labels in 0..9")


def load_mnist(path=None):
    """Loads MNIST as uint8 arrays.

    Args:
        path: str, pathlib.Path or None. A Keras-layout `mnist.npz`, or a folder holding
            `train-images-idx3-ubyte`, `train-labels-idx1-ubyte`, `t10k-images-idx3-ubyte` and
            `t10k-labels-idx1-ubyte` (each plain or `.gz`). Defaults to `$RBVAE_MNIST`, then
            `~/.keras/datasets/mnist.npz`, then the bundled `zoo/data/mnist.npz`.

    Returns:
        dict with `x_train` (60000, 28, 28), `y_train` (60000,), `x_test` (10000, 28, 28) and
        `y_test` (10000,), all uint8.

    Example:
    >>> mnist = load_mnist()
    >>> mnist["x_train"].shape
    (60000, 28, 28)
    """
    path = resolve_mnist_path(path)
    if path.is_dir():
        mnist = {key: read_idx(file) for key, file in _idx_files(path).items()}
    else:
        mnist = _read_npz(path)
    _check_arrays(mnist, path)
    return {key: mnist[key].astype(np.uint8, copy=False) for key in KEYS}


def mnist_source_id(path=None):
    """A short content hash of the MNIST source, for cache keys.

    Hashing the content (about 11 MB, some 20 ms) rather than the mtime keeps the key stable
    across copies and changes it whenever the data change.

    Args:
        path: str, pathlib.Path or None. As for `load_mnist`.

    Returns:
        str of 12 hex digits.
    """
    path = resolve_mnist_path(path)
    files = list(_idx_files(path).values()) if path.is_dir() else [path]
    digest = hashlib.sha1()
    try:
        for file in files:
            digest.update(file.name.encode())
            digest.update(file.read_bytes())
    except OSError as error:
        raise UserError(f"cannot read MNIST file {file}: {error.strerror}") from None
    return digest.hexdigest()[:12]

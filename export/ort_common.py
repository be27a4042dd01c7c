"""What the ONNX Runtime scripts share: export metadata, sessions, image files, input checks.

numpy, Pillow and onnxruntime only: nothing here (or in the scripts) imports TensorFlow, so an
export folder runs on a machine that has neither TensorFlow nor this repository's library.
Bad input raises `InputError`; `run_main` prints it as one line `error: ...` and exits 2.
"""

import argparse
import json
import os
import pathlib
import sys

import numpy as np
import onnxruntime as ort
from PIL import Image, UnidentifiedImageError

PROVIDERS = {"cuda": "CUDAExecutionProvider", "cpu": "CPUExecutionProvider"}
# The one rule that turns an image file into model input, named in every export's metadata.json
# and implemented twice: `load_image` here and `prepare` in export/web/app.js (the browser page).
PREPROCESSING = "rgb-centre-square-area-resize-round8-v1"
_DECODE_ERRORS = (OSError, UnidentifiedImageError, SyntaxError, ValueError, Image.DecompressionBombError)


class InputError(ValueError):
    """Bad input: a missing export, file or image, or an array of the wrong shape or dtype."""


# --- export folder -----------------------------------------------------------------------------


def read_metadata(export_dir):
    """The `metadata.json` of an export folder as a dict, or InputError."""
    export_dir = pathlib.Path(export_dir)
    if not export_dir.is_dir():
        raise InputError(f"no export folder at {export_dir}")
    try:
        metadata = json.loads((export_dir / "metadata.json").read_text())
    except FileNotFoundError:
        raise InputError(f"{export_dir} has no metadata.json; is it a `python cli.py export` folder?") from None
    except (OSError, ValueError) as error:
        raise InputError(f"unreadable {export_dir / 'metadata.json'}: {error}") from None
    missing = {"image_size", "target_dim", "common_dim", "files"} - set(metadata)
    if missing:
        raise InputError(f"{export_dir / 'metadata.json'} lacks {', '.join(sorted(missing))}")
    return metadata


def require_reference_based(metadata, what):
    """InputError unless the export is of a model with an e/z split (Rb-VAE, sRb-VAE)."""
    if metadata.get("reference_target") is None:
        raise InputError(
            f"{what} needs an export of a reference-based model (rbvae, srbvae); "
            f"this one is {metadata.get('model') or 'unsupervised'} with a single latent vector"
        )


def pick_providers(provider="auto"):
    """Execution providers to ask for: `auto` prefers CUDA when onnxruntime-gpu is installed."""
    available = ort.get_available_providers()
    if provider == "auto":
        return [p for p in (PROVIDERS["cuda"], PROVIDERS["cpu"]) if p in available]
    if provider not in PROVIDERS:
        raise InputError(f"unknown provider {provider!r}; choose auto, cuda or cpu")
    if PROVIDERS[provider] not in available:
        raise InputError(
            f"{PROVIDERS[provider]} is not available (installed: {', '.join(available)}); "
            "CUDA needs the onnxruntime-gpu package"
        )
    return [PROVIDERS[provider]]


# --- session options: the measured rule (docs/performance.md, "Inference") ----------

SMALL_MACHINE_CPUS = 2  # the largest machine the rule was measured on


def parse_threads(value):
    """`--threads` as given: `auto`, `default` or a positive number of intra-op threads."""
    if value in ("auto", "default"):
        return value
    try:
        threads = int(value)
    except (TypeError, ValueError):
        threads = 0
    if threads < 1:
        raise InputError(f"threads must be auto, default or a positive integer, got {value!r}")
    return threads


def session_options(threads="auto", cpus=None, batch=1):
    """The SessionOptions of the ONNX scripts and a description of them.

    The rule `auto`, from measurement (docs/performance.md, "Inference"): on a machine
    with at most 2 logical CPUs, batch 1 runs on one intra-op thread, and larger batches on one
    thread per CPU without spin-waiting (`session.intra_op.allow_spinning=0`); each had the lowest
    median of ORT's thread settings at its batch size. ORT's default (spin-waiting threads) lost
    whenever another process held a core. On a larger machine, ORT's default (one thread per
    physical core), which was not measured here.

    Args:
        threads: str or int. `auto` (the rule), `default` (ORT's defaults: intra_op_num_threads=0,
            spin-waiting on) or a number of intra-op threads. Defaults to `"auto"`.
        cpus: int or None. Logical CPUs the rule assumes. Defaults to `os.cpu_count()`.
        batch: int. Images per call the session will mostly run. Defaults to 1.

    Returns:
        (onnxruntime.SessionOptions, str): the options, and e.g. `"intra_op_num_threads=1 (auto)"`.
    """
    threads = parse_threads(threads)
    cpus = cpus or os.cpu_count() or 1
    options = ort.SessionOptions()
    if threads == "auto":
        if cpus > SMALL_MACHINE_CPUS:
            return options, f"ORT default threads (auto: > {SMALL_MACHINE_CPUS} CPUs)"
        if batch <= 1 or cpus == 1:
            options.intra_op_num_threads = 1
            return options, "intra_op_num_threads=1 (auto: batch 1)"
        options.intra_op_num_threads = cpus
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        return options, f"intra_op_num_threads={cpus}, no spin-wait (auto: batch > 1)"
    if threads == "default":
        return options, "ORT default threads"
    options.intra_op_num_threads = threads
    return options, f"intra_op_num_threads={threads}"


def load_session(export_dir, name, provider="auto", options=None, threads="auto", batch=1):
    """An `onnxruntime.InferenceSession` of `export_dir/onnx/<name>.onnx`.

    `auto` asks for CUDA first when onnxruntime-gpu is installed; ONNX Runtime falls back to the CPU
    when no GPU is present. With `cuda`, a session that did not get the GPU is an InputError.

    Args:
        export_dir: str or pathlib.Path. A folder written by `python cli.py export --onnx`.
        name: str. Graph name: `transfer`, `encoder_e`, `encoder_z`, `generator` or `encoder`.
        provider: str. `auto`, `cuda` or `cpu`. Defaults to `"auto"`.
        options: onnxruntime.SessionOptions or None. Defaults to `session_options(threads)`.
        threads: str or int. See `session_options`. Defaults to `"auto"`, the measured rule.
        batch: int. The batch size the rule `auto` plans for. Defaults to 1.
    """
    path = pathlib.Path(export_dir) / "onnx" / f"{name}.onnx"
    if not path.exists():
        metadata = read_metadata(export_dir)
        have = sorted(pathlib.Path(p).stem for p in metadata["files"].get("onnx", {}))
        hint = f"it has {', '.join(have)}" if have else "re-export with `python cli.py export --onnx`"
        raise InputError(f"{export_dir} has no ONNX graph {name!r}; {hint}")
    wanted = pick_providers(provider)
    options = options if options is not None else session_options(threads, batch=batch)[0]
    try:
        session = ort.InferenceSession(str(path), sess_options=options, providers=wanted)
    except Exception as error:  # a corrupt or foreign file: onnxruntime raises its own types
        raise InputError(f"cannot load {path}: {str(error).splitlines()[0][:160]}") from None
    if provider == "cuda" and PROVIDERS["cuda"] not in session.get_providers():
        raise InputError("CUDAExecutionProvider could not start (no usable GPU?); use --provider cpu")
    return session


# --- images ------------------------------------------------------------------------------------


def area_matrix(n_in, n_out):
    """(n_out, n_in) matrix of an area resize: each output pixel is the mean of the input it covers.

    Example:
    >>> area_matrix(4, 2).tolist()
    [[0.5, 0.5, 0.0, 0.0], [0.0, 0.0, 0.5, 0.5]]
    """
    ratio = n_in / n_out
    lo = np.arange(n_out)[:, None] * ratio  # footprint of output i in input coordinates
    j = np.arange(n_in)[None, :]
    overlap = np.clip(np.minimum(lo + ratio, j + 1) - np.maximum(lo, j), 0, None)
    return overlap / ratio


def to_rgb(image):
    """A Pillow image of any mode as RGB; 16-bit grey is scaled to 8 bits, not clipped.

    Deliberately the same as `rbvae_tf.data.folders._pillow_rgb`: these scripts must not import
    `rbvae_tf`, which loads TensorFlow.
    """
    if image.mode in ("I", "I;16", "I;16B", "I;16L"):
        grey = np.asarray(image, np.float64) / 257.0
        image = Image.fromarray(np.clip(np.rint(grey), 0, 255).astype(np.uint8))
    return image.convert("RGB")


def load_image(path, image_size):
    """Reads an image file as float32 (S, S, 3) in [-1, 1], prepared as for training.

    Any Pillow format and mode; converted to RGB, centre-cropped to a square and area-resized to
    `image_size` (the preprocessing of `rbvae_tf.data.folders`), rounded to 8 bits (half to even),
    then mapped from [0, 255] to [-1, 1]. This is the rule `PREPROCESSING`; the web page
    (export/web/app.js) implements the same rule and checks its name in metadata.json.
    """
    path = pathlib.Path(path)
    if not path.is_file():
        raise InputError(f"image not found: {path}")
    try:
        with Image.open(path) as image:
            pixels = np.asarray(to_rgb(image), np.float64)
    except _DECODE_ERRORS as error:
        raise InputError(f"not a readable image: {path} ({str(error).splitlines()[0][:120]})") from None
    height, width = pixels.shape[:2]
    side = min(height, width)
    top, left = (height - side) // 2, (width - side) // 2
    pixels = pixels[top : top + side, left : left + side]
    resize = area_matrix(side, image_size)
    pixels = np.einsum("ih,hwc,jw->ijc", resize, pixels, resize)
    return (np.clip(np.rint(pixels), 0, 255) / 127.5 - 1.0).astype(np.float32)


def to_uint8(images):
    """float images in [-1, 1] -> uint8 in [0, 255]."""
    return np.clip(np.rint((np.asarray(images, np.float32) + 1.0) * 127.5), 0, 255).astype(np.uint8)


def make_grid(images, columns=None, pad=1):
    """A (N, S, S, 3) float batch in [-1, 1] as one uint8 grid image, `columns` tiles a row."""
    images = to_uint8(images)
    n, size = images.shape[0], images.shape[1]
    columns = columns or n
    rows = -(-n // columns)
    grid = np.zeros((rows * (size + pad) + pad, columns * (size + pad) + pad, 3), np.uint8)
    for k, tile in enumerate(images):
        top, left = pad + (k // columns) * (size + pad), pad + (k % columns) * (size + pad)
        grid[top : top + size, left : left + size] = tile
    return grid


def save_image(array, path):
    """Writes a uint8 (H, W, 3) array (or a float one in [-1, 1]) as an image file."""
    path = pathlib.Path(path)
    array = np.asarray(array)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(array if array.dtype == np.uint8 else to_uint8(array)).save(path)
    except (OSError, ValueError, KeyError) as error:
        raise InputError(f"cannot write {path}: {str(error).splitlines()[0][:120]}") from None
    return path


# --- array inputs ------------------------------------------------------------------------------


def check_images(images, image_size, name="images"):
    """Validates an image array for the array API; returns float32 (B, S, S, 3).

    Accepts one image (S, S, 3) or a batch (B, S, S, 3) of floats in [-1, 1]; a uint8 array or
    values outside [-1, 1] (e.g. [0, 255] floats) are InputErrors, not silently rescaled.
    """
    images = np.asarray(images)
    if images.dtype.kind != "f":
        raise InputError(
            f"{name} must be floats in [-1, 1], got dtype {images.dtype} (map uint8 pixels with x / 127.5 - 1)"
        )
    if images.ndim == 3:
        images = images[None]
    if images.ndim != 4 or images.shape[1:] != (image_size, image_size, 3) or images.shape[0] == 0:
        raise InputError(f"{name} must have shape (S, S, 3) or (B, S, S, 3) with S = {image_size}, got {images.shape}")
    if not np.all(np.isfinite(images)):
        raise InputError(f"{name} must be finite floats in [-1, 1], got NaN or infinite values")
    if images.min() < -1.001 or images.max() > 1.001:
        raise InputError(
            f"{name} must be in [-1, 1], got range [{images.min():.3g}, {images.max():.3g}] "
            "(map [0, 255] pixels with x / 127.5 - 1)"
        )
    return images.astype(np.float32)


# --- command line ------------------------------------------------------------------------------


class ArgumentParser(argparse.ArgumentParser):
    """argparse whose usage errors are one line `error: ...` with exit status 2."""

    def error(self, message):
        sys.stderr.write(f"error: {message}\n")
        sys.exit(2)


def add_common_arguments(parser):
    parser.add_argument("export_dir", metavar="DIR", help="folder written by `python cli.py export --onnx`")
    parser.add_argument(
        "--provider",
        choices=("auto", "cuda", "cpu"),
        default="auto",
        help="execution provider; auto = CUDA when onnxruntime-gpu sees a GPU, else CPU",
    )
    parser.add_argument(
        "--threads",
        default="auto",
        metavar="auto|default|N",
        help="ONNX Runtime intra-op threads; auto (default) = the measured rule: on <= 2 CPUs "
        "1 thread for one image, else one per CPU without spin-wait; on larger machines "
        "ORT's default; default = ORT's default",
    )


def run_main(main, argv=None):
    """Runs `main(argv)`; InputError becomes `error: ...` on stderr and exit status 2."""
    try:
        main(argv)
    except InputError as error:
        sys.stderr.write(f"error: {error}\n")
        sys.exit(2)

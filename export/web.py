"""`write_web`: a static attribute-transfer page that runs an ONNX export in the browser.

    from export.web import write_web
    write_web("exports/run", "web/run", samples)   # samples: uint8 (N, S, S, 3) probe images

The folder holds `index.html`, `app.js`, `style.css` (the page, from `export/web/`), the ONNX
Runtime Web files in `ort/` (copied from the npm package `onnxruntime-web` pinned in
`export/web/package.json`; installed with `npm ci --prefix export/web`), the graphs
`onnx/transfer.onnx`, `onnx/encoder_z.onnx` and `onnx/generator.onnx`, `samples/*.png`, the
opening result `opening/transfer.png` and `opening/reference.png` and a `metadata.json`: the
export's metadata plus a `web` entry. Nothing is loaded from the internet; `python -m http.server
-d FOLDER` serves it.

The page opens on a result: before its model has loaded (the runtime and graphs are megabytes)
it shows the first two samples as content and style with their transfer and the content's
reference version, computed here with ONNX Runtime (`OPENING`); the page then recomputes them
itself. Needs numpy, Pillow and onnxruntime (no TensorFlow).
"""

import json
import os
import pathlib
import shutil
import tempfile

import numpy as np
from PIL import Image

from export.ort_common import PREPROCESSING, InputError, read_metadata, require_reference_based, to_uint8

PAGE = pathlib.Path(__file__).resolve().parent / "web"
PAGE_FILES = ("index.html", "app.js", "style.css")
# The WebAssembly build with its JavaScript glue bundled in: one module and one .wasm file.
RUNTIME_FILES = ("ort.wasm.bundle.min.mjs", "ort-wasm-simd-threaded.wasm")
GRAPHS = ("transfer", "encoder_z", "generator")
# WebAssembly threads of the page. Browsers give a page threads (SharedArrayBuffer) only when it
# is cross-origin isolated, which `python -m http.server` does not do; and one intra-op thread
# was the fastest native setting measured on 2 cores (docs/performance.md). `?threads=N` overrides.
WASM_THREADS = 1
# The pair shown on opening: (content sample, style sample).
OPENING = (0, 1)


def runtime_dir():
    """The `dist/` folder of the installed `onnxruntime-web` package, or InputError.

    `RBVAE_ORT_WEB` names it explicitly; else `export/web/node_modules/onnxruntime-web/dist`.
    """
    dist = pathlib.Path(os.environ.get("RBVAE_ORT_WEB") or PAGE / "node_modules" / "onnxruntime-web" / "dist")
    missing = [name for name in RUNTIME_FILES if not (dist / name).is_file()]
    if missing:
        raise InputError(
            f"ONNX Runtime Web is not installed ({dist} lacks {', '.join(missing)}); "
            f"run `npm ci --prefix {PAGE}` or set RBVAE_ORT_WEB to its dist/ folder"
        )
    return dist


def opening_images(export_dir, samples):
    """The transfer of samples[OPENING[0]] to the style of samples[OPENING[1]] and the content's
    reference version G(mean z(content), e_r), as uint8 (S, S, 3) each, with ONNX Runtime (CPU)."""
    from export.onnx_generate import generate
    from export.onnx_transfer import transfer

    content, style = (samples[k][None].astype(np.float32) / 127.5 - 1.0 for k in OPENING)
    transferred = transfer(export_dir, content, style, provider="cpu")[0]
    reference = generate(export_dir, content, n=0, provider="cpu")[1]
    return to_uint8(transferred), to_uint8(reference)


def check_destination(out):
    """InputError unless `out` is absent, empty or an earlier page (it holds an index.html)."""
    out = pathlib.Path(out)
    if out.exists() and (not out.is_dir() or (any(out.iterdir()) and not (out / "index.html").exists())):
        raise InputError(f"refusing to replace {out}: it is not an earlier web page (no index.html)")


def runtime_version(dist):
    """The version of the onnxruntime-web package whose `dist/` folder is `dist`, or None."""
    try:
        return json.loads((pathlib.Path(dist).parent / "package.json").read_text())["version"]
    except (OSError, ValueError, KeyError):
        return None


def write_web(export_dir, out_dir, samples):
    """Writes the static page for the ONNX export `export_dir` to `out_dir`; returns its metadata.

    Args:
        export_dir: str or pathlib.Path. A `python cli.py export --onnx` folder of an rbvae or
            srbvae model.
        out_dir: str or pathlib.Path. The page folder; replaced only if it holds an earlier page.
        samples: uint8 array (N, S, S, 3), N >= 2. Images offered as content and style samples
            (the page's grid uses all of them; it opens on the first two, `OPENING`).

    Returns:
        dict: the page's `metadata.json`.
    """
    export_dir, out = pathlib.Path(export_dir), pathlib.Path(out_dir)
    metadata = read_metadata(export_dir)
    require_reference_based(metadata, "the web page")
    size = metadata["image_size"]
    samples = np.asarray(samples)
    if samples.dtype != np.uint8 or samples.ndim != 4 or samples.shape[1:] != (size, size, 3) or len(samples) < 2:
        raise InputError(
            f"samples must be uint8 (N, {size}, {size}, 3) with N >= 2, got {samples.dtype} {samples.shape}"
        )
    graphs = {name: export_dir / "onnx" / f"{name}.onnx" for name in GRAPHS}
    missing = [name for name, path in graphs.items() if not path.is_file()]
    if missing:
        raise InputError(f"{export_dir} lacks the ONNX graphs {', '.join(missing)}; export with --onnx")
    dist = runtime_dir()
    check_destination(out)

    out.parent.mkdir(parents=True, exist_ok=True)
    staging = pathlib.Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".partial", dir=out.parent))
    try:
        for name in PAGE_FILES:
            shutil.copyfile(PAGE / name, staging / name)
        (staging / "ort").mkdir()
        for name in RUNTIME_FILES:
            shutil.copyfile(dist / name, staging / "ort" / name)
        if (dist.parent / "LICENSE").is_file():
            shutil.copyfile(dist.parent / "LICENSE", staging / "ort" / "LICENSE")
        (staging / "onnx").mkdir()
        for name, path in graphs.items():
            shutil.copyfile(path, staging / "onnx" / path.name)
        (staging / "samples").mkdir()
        sample_files = []
        for k, image in enumerate(samples):
            sample_files.append(f"samples/sample_{k:02d}.png")
            Image.fromarray(image).save(staging / sample_files[-1])
        (staging / "opening").mkdir()
        opening = {
            "content": OPENING[0],
            "style": OPENING[1],
            "transfer": "opening/transfer.png",
            "reference": "opening/reference.png",
        }
        for name, image in zip(("transfer", "reference"), opening_images(export_dir, samples)):
            Image.fromarray(image).save(staging / opening[name])
        web = {
            "preprocessing": PREPROCESSING,
            "onnxruntime_web": runtime_version(dist),
            "runtime": [f"ort/{name}" for name in RUNTIME_FILES],
            "wasm_threads": WASM_THREADS,
            "graphs": {name: f"onnx/{name}.onnx" for name in GRAPHS},
            "samples": sample_files,
            "opening": opening,
        }
        metadata = {**metadata, "preprocessing": PREPROCESSING, "web": web}
        (staging / "metadata.json").write_text(json.dumps(metadata, indent=2) + "\n")
        staging.chmod(0o755)
        if out.exists():
            shutil.rmtree(out)
        staging.rename(out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return metadata


def check_before_export(out_dir):
    """For the CLI, before the (slow) export: the runtime is installed and `out_dir` may be written.
    Problems are an `rbvae_tf.UserError` (one line, exit 2)."""
    from rbvae_tf.errors import UserError

    try:
        runtime_dir()
        check_destination(out_dir)
    except InputError as error:
        raise UserError(str(error)) from None


def write_web_from_model(model, info, export_dir, out_dir, count=6):
    """`python cli.py export --web`: the first `count` MNIST-style probe_test images of the model's
    data (its run's data seed and MNIST source) as samples, then `write_web`. Returns `out_dir`;
    bad input is an `rbvae_tf.UserError`. Needs TensorFlow (it reads the model's data options).
    """
    from rbvae_tf.applications import probe_test_images
    from rbvae_tf.errors import UserError

    samples = probe_test_images(model, info, limit=count)[:count]
    try:
        write_web(export_dir, out_dir, samples)
    except InputError as error:
        raise UserError(str(error)) from None
    return out_dir

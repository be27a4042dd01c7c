"""`export_model`: one export folder with a SavedModel, optional ONNX graphs and metadata.json.

    DIR/metadata.json        image_size, channels, value_range, dims, e_r, model, preset, opset,
                             source commit, signatures, files, parity of every graph
    DIR/saved_model/         tf.saved_model, one signature per graph of `export.graphs`
    DIR/onnx/*.onnx          with `onnx=True`: transfer, encoder_e, encoder_z, generator
                             (unsupervised models: encoder, generator)

The folder is written under a temporary name next to DIR and renamed at the end, so a failure
never leaves a half export and never destroys an existing one.
"""

import json
import os
import pathlib
import shutil
import subprocess
import tempfile

import keras
import numpy as np
import tensorflow as tf

from export.graphs import describe, endpoints, keras_outputs
from export.onnx_graphs import DEFAULT_OPSET, OPSETS, write_onnx
from export.ort_common import PREPROCESSING
from export.saved_model import write_saved_model
from rbvae_tf.errors import UserError
from rbvae_tf.models import MODELS

REPO = pathlib.Path(__file__).resolve().parents[1]
PARITY_TOLERANCE = 1e-4  # max abs difference to the Keras model, images and latents alike


def export_model(model, info=None, out_dir=None, onnx=False, opset=DEFAULT_OPSET, verify=True):
    """Exports a model for serving: SavedModel, optionally ONNX, and metadata.json.

    Args:
        model: LatentModel. Any model of `rbvae_tf.models`.
        info: dict or None. The `info` of `rbvae_tf.loading.load_trained` (name, path, fit config).
        out_dir: str or pathlib.Path. The export folder; replaced if it holds an earlier export.
            Defaults to `exports/<info name>`.
        onnx: bool. Also write the ONNX graphs. Defaults to False.
        opset: int. ONNX opset, 13 to 18. Defaults to 17.
        verify: bool. Reload every written graph and compare it with the Keras model on a random
            batch; a difference above 1e-4 fails the export. Defaults to True.

    Returns:
        dict: the metadata written to `out_dir/metadata.json`.

    Example:
    >>> from rbvae_tf.models import build_model
    >>> model = build_model("srbvae", image_size=16, width=0.125, target_dim=4, common_dim=4)
    >>> export_model(model, out_dir="/tmp/tiny", onnx=True)["files"]["onnx"]  # doctest: +SKIP
    {'onnx/transfer.onnx': 'transfer', 'onnx/encoder_e.onnx': 'encode_target', ...}
    """
    info = info or {"name": model.name, "path": None, "fit": None}
    if onnx and opset not in OPSETS:
        raise UserError(f"--opset must be between {OPSETS.start} and {OPSETS.stop - 1}, got {opset}")
    out = pathlib.Path(out_dir or pathlib.Path("exports") / info["name"])
    _check_destination(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = pathlib.Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".partial", dir=out.parent))
    staging.chmod(0o777 & ~_umask())  # mkdtemp makes it private; the export is an ordinary folder
    try:
        metadata = _metadata(model, info, opset if onnx else None)
        graphs = endpoints(model)
        metadata["signatures"] = {
            name: describe(signature, keras_outputs(model, name, *_probe(signature, 1)))
            for name, (_, signature) in graphs.items()
        }
        write_saved_model(model, staging / "saved_model", graphs)
        onnx_files = {}
        if onnx:
            props = {
                key: metadata[key]
                for key in (
                    "model",
                    "image_size",
                    "channels",
                    "value_range",
                    "layout",
                    "target_dim",
                    "common_dim",
                    "reference_target",
                    "opset",
                    "source_commit",
                )
            }
            onnx_files = {
                f"onnx/{name}": signature
                for name, signature in write_onnx(model, staging / "onnx", opset, props, graphs).items()
            }
        metadata["serving_default"] = next(iter(metadata["signatures"]))
        metadata["files"] = {"saved_model": "saved_model", "onnx": onnx_files}
        if verify:
            metadata["parity"] = check_parity(model, staging, onnx_files, graphs)
        (staging / "metadata.json").write_text(json.dumps(metadata, indent=2) + "\n")
        _replace(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return metadata


def model_name(model):
    """The CLI name of a model (`srbvae`, `dip-vae-ii`, ...) from its class and fixed arguments."""
    for name, (cls, fixed) in MODELS.items():
        if type(model) is cls and all(getattr(model, key, None) == value for key, value in fixed.items()):
            return name
    return type(model).__name__


def source_commit():
    """`git rev-parse HEAD` of this repository, or None outside a git checkout."""
    try:
        result = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=REPO, capture_output=True, text=True, timeout=10, check=True
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return result.stdout.strip() or None


def check_parity(model, export_dir, onnx_files, graphs=None, batch=2, seed=0):
    """Max abs difference of every exported graph to the Keras model on random inputs.

    Returns `{"saved_model/<signature>": diff, "onnx/<file>": diff}`; raises RuntimeError when a
    difference exceeds `PARITY_TOLERANCE`.
    """
    import onnxruntime as ort

    graphs = graphs or endpoints(model)
    inputs = {name: _probe(signature, batch, seed) for name, (_, signature) in graphs.items()}
    expected = {name: keras_outputs(model, name, *inputs[name]) for name in graphs}
    saved = tf.saved_model.load(str(export_dir / "saved_model"))
    diffs = {}
    for name, (_, signature) in graphs.items():
        feed = {spec.name: tf.constant(x) for spec, x in zip(signature, inputs[name])}
        diffs[f"saved_model/{name}"] = _max_diff(expected[name], _numpy(saved.signatures[name](**feed)))
    for file, name in onnx_files.items():
        session = ort.InferenceSession(str(export_dir / file), providers=["CPUExecutionProvider"])
        feed = {spec.name: x for spec, x in zip(graphs[name][1], inputs[name])}
        names = [output.name for output in session.get_outputs()]
        diffs[file] = _max_diff(expected[name], dict(zip(names, session.run(names, feed))))
    worst = max(diffs, key=diffs.get)
    if diffs[worst] > PARITY_TOLERANCE:
        raise RuntimeError(
            f"exported graph {worst} differs from the Keras model by {diffs[worst]:.3g} "
            f"(tolerance {PARITY_TOLERANCE}); export aborted"
        )
    return diffs


def _relative(path):
    """`path` relative to the working directory when it lies below it (no machine paths in shipped files)."""
    if path is None:
        return None
    path = pathlib.Path(path).resolve()
    return str(path.relative_to(pathlib.Path.cwd())) if path.is_relative_to(pathlib.Path.cwd()) else str(path)


def _metadata(model, info, opset):
    fit = info.get("fit") or {}
    reference = model.reference_target.numpy().tolist() if model.reference_based else None
    return {
        "model": fit.get("model") or model_name(model),
        "preset": fit.get("preset"),
        "source": _relative(info.get("path")),
        "image_size": int(model.image_size),
        "channels": 3,
        "value_range": [-1, 1],
        "layout": "NHWC",
        "dtype": "float32",
        "preprocessing": PREPROCESSING,
        "reference_based": bool(model.reference_based),
        "target_dim": int(model.target_dim),
        "common_dim": int(model.common_dim),
        "reference_target": reference,
        "opset": opset,
        "source_commit": source_commit(),
        "versions": {"tensorflow": tf.__version__, "keras": keras.__version__},
    }


def _probe(signature, batch, seed=0):
    """Random inputs of a signature: images uniform in [-1, 1], latents standard normal."""
    rng = np.random.default_rng(seed)
    return [
        (
            rng.uniform(-1, 1, (batch, *spec.shape[1:]))
            if spec.shape.rank == 4
            else rng.standard_normal((batch, *spec.shape[1:]))
        ).astype(np.float32)
        for spec in signature
    ]


def _numpy(outputs):
    return {name: keras.ops.convert_to_numpy(value) for name, value in outputs.items()}


def _max_diff(expected, actual):
    if set(expected) != set(actual):
        raise RuntimeError(f"exported outputs {sorted(actual)} differ from the model's {sorted(expected)}")
    return float(max(np.max(np.abs(expected[name] - actual[name])) for name in expected))


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _check_destination(out):
    if out.exists() and not out.is_dir():
        raise UserError(f"--out-dir {out} is a file, not a folder")
    if out.is_dir() and any(out.iterdir()) and not (out / "metadata.json").exists():
        raise UserError(
            f"refusing to replace {out}: it is not empty and holds no earlier export "
            "(no metadata.json); choose another --out"
        )


def _replace(staging, out):
    """Moves the finished `staging` folder to `out`, replacing an earlier export only once done."""
    if not out.exists():
        staging.rename(out)
        return
    old = out.with_name(f".{out.name}.{staging.name.rsplit('.', 2)[-2]}.old")
    out.rename(old)
    try:
        staging.rename(out)
    except OSError:
        old.rename(out)
        raise
    shutil.rmtree(old, ignore_errors=True)

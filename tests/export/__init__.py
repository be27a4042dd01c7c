"""Helpers shared by the export tests: one tiny sRb-VAE exported once per session, test images.

Both test modules use the same export (built by `tiny_srbvae_export`, cached per process),
because exporting is most of their time.
"""

import functools
import json
import os
import pathlib

import numpy as np

REPO = pathlib.Path(__file__).resolve().parents[2]
TINY = {"image_size": 16, "width": 0.125, "target_dim": 4, "common_dim": 4}
TOLERANCE = 1e-4


@functools.cache
def tiny_srbvae_export(root):
    """A tiny sRb-VAE saved as a finished run `root/runs/tiny-run` and exported from `root` with
    `python cli.py export --onnx`, no MODEL and no --out: the defaults pick the run and write
    `root/exports/tiny-run`. Returns `(model, export_dir, click result)`.
    """
    from click.testing import CliRunner

    import cli
    from rbvae_tf.models import build_model

    root = pathlib.Path(root)
    model = build_model("srbvae", **TINY)
    model.reference_target.assign(np.random.default_rng(0).standard_normal(TINY["target_dim"]).astype("float32"))
    run = root / "runs" / "tiny-run"
    run.mkdir(parents=True)
    model.save(run / "model.keras")
    (run / "config.json").write_text(json.dumps({"fit": {"model": "srbvae", "preset": "tiny"}}))
    (run / "status.json").write_text(json.dumps({"finished": True}))
    cwd = os.getcwd()
    os.chdir(root)
    try:
        result = CliRunner().invoke(cli.cli, ["export", "--onnx"])
    finally:
        os.chdir(cwd)
    return model, root / "exports" / "tiny-run", result


def random_images(batch, size=TINY["image_size"], seed=0):
    return np.random.default_rng(seed).uniform(-1, 1, (batch, size, size, 3)).astype(np.float32)


def real_looking_images(batch, size=TINY["image_size"], seed=0):
    """MNIST-style images: MNIST test digits in a random colour on a random background, [-1, 1]."""
    from PIL import Image

    digits = np.load(REPO / "zoo" / "data" / "mnist.npz")["x_test"][seed * batch : (seed + 1) * batch]
    rng = np.random.default_rng(seed)
    images = []
    for digit in digits:
        alpha = np.asarray(Image.fromarray(digit).resize((size, size), Image.BOX), np.float32)[..., None] / 255
        foreground, background = rng.uniform(0, 255, (2, 1, 1, 3))
        images.append(alpha * foreground + (1 - alpha) * background)
    return (np.stack(images) / 127.5 - 1).astype(np.float32)


def max_diff(a, b):
    return float(np.max(np.abs(np.asarray(a, np.float32) - np.asarray(b, np.float32))))

"""Regression test of the dead reference branch: the reference branch of the cpu-preset sRb-VAE must come alive.

A dead branch draws G(z_r, e_r) black, so its reference L1 equals that of an all-black image
(ratio >= 1). This trains the cpu preset's sRb-VAE configuration (its reference width and model
arguments), shrunk to width 1/4, batch 16, 3 x 40 steps at lr 1e-3 on 512 images, and checks the
per-epoch health that `fit` logs. Measured when it was written (seed 0): ratio 0.94 with 3 px
references, 1.03 (dead) with the paper's 1 px ones.
"""

import pathlib

import tensorflow as tf

from rbvae_tf.callbacks import read_history
from rbvae_tf.config import FitConfig
from rbvae_tf.health import HEALTH_NAMES
from rbvae_tf.training import fit


def test_reference_branch_of_the_cpu_preset_comes_alive(tmp_path):
    config = FitConfig(
        model="srbvae",
        preset="cpu",
        width=0.25,
        epochs=3,
        steps_per_epoch=40,
        batch_size=16,
        limit=512,
        learning_rate=1e-3,
    )
    run_dir = fit(config, out=tmp_path / "run", verbose=0)
    history = read_history(run_dir / "history.csv")
    ratios = [float(row["health_reference_l1_ratio"]) for row in history]
    assert len(ratios) == 3
    assert ratios[-1] < 1.0, f"reference branch is dead: reference L1 / all-black L1 = {ratios}"
    logged = {f"health_{name}" for name in HEALTH_NAMES if "prior" not in name}
    assert logged <= set(history[0])  # every health number, every epoch
    tags = {
        value.tag
        for path in pathlib.Path(run_dir / "logs").rglob("*tfevents*")
        for event in tf.compat.v1.train.summary_iterator(str(path))
        for value in event.summary.value
    }
    assert "epoch_health_reference_l1_ratio" in tags  # and in TensorBoard

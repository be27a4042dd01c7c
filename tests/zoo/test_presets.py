"""The zoo's presets: all seven load by name, and a re-evaluation on a prefix of the probe
splits reproduces the numbers of their cards within a measured tolerance.

The cards' numbers come from `python cli.py evaluate` on 5,000 + 5,000 probe images. CI re-runs the same
protocol (`evaluate_mnist`) on the first SUBSET of each split (a limited build of the MNIST-style data
is a prefix of the full one), which takes seconds. The probes are refitted on fewer images, so the
numbers move: `python -m research.train_zoo tolerance` measures by how much for every preset and number
checked here, and TOLERANCE is that largest difference with a margin (see its comment).
"""

import json

import numpy as np
import pytest

from rbvae_tf import from_preset
from rbvae_tf.config import FitConfig
from rbvae_tf.presets import available_presets, zoo_dir
from research.tables import MODELS
from research.tolerance import checked_numbers, subset_results

# Largest |subset - card| over the seven presets and every checked number, measured by
# `python -m research.train_zoo tolerance` (docs/zoo/card-tolerance.txt, the presets at the recipe): on 2,000 images
# 0.0009 for the probe MAEs and 0.037 for the digit accuracies (the digit probe fitted on fewer images scores
# lower; on 1,000 images the differences were 0.0027 and 0.074). Bounded at about 1.5x the 2,000-image figures:
# a preset whose numbers moved by more than that fails. (Two presets are closer than 0.0015 on the Table 1
# MAE, VAE .0562 and sVAE .0566: a swap of those two is caught by the model check, not the numbers.)
# The transfer scores (content kept, mean style taken) are re-measured on the same 1,000 pairs with the
# shipped readers (the pairs are the first 1,000 probe_test images, which SUBSET holds), so only
# floating-point noise separates them from the card: |diff| 0.0000 (below 5e-5) on 1,000 and 2,000 images;
# the bound 0.002 leaves room for another BLAS build and is far below the gaps the scores are read for (.01).
TOLERANCE = {"mae": 0.0015, "digits": 0.056, "transfer": 0.002}


def test_all_seven_models_have_a_preset():
    presets = available_presets()
    assert [f"{m}-mnist-cpu" for m in MODELS if f"{m}-mnist-cpu" not in presets] == []


@pytest.mark.parametrize("model_name", MODELS)
def test_preset_reproduces_its_card(model_name):
    name = f"{model_name}-mnist-cpu"
    model, info = from_preset(name)
    card = json.loads((zoo_dir() / name / "metrics.json").read_text())
    assert info["fit"]["model"] == model_name
    # the presets' recipe, one for all seven: the cpu budget's data, size, width and batch, its learning rate
    # 3e-4 (constant, both players), 30 x 400 = 12,000 steps, seed 0
    fit = json.loads(FitConfig(**info["fit"]).to_json())  # a field added after the run trained: its default
    recipe = {
        k: fit[k]
        for k in (
            "image_size",
            "width",
            "batch_size",
            "epochs",
            "steps_per_epoch",
            "data_seed",
            "seed",
            "learning_rate",
            "discriminator_learning_rate",
            "lr_schedule",
        )
    }
    assert recipe == {
        "image_size": 32,
        "width": 0.5,
        "batch_size": 36,
        "epochs": 30,
        "steps_per_epoch": 400,
        "data_seed": 0,
        "seed": 0,
        "learning_rate": 3e-4,
        "discriminator_learning_rate": None,
        "lr_schedule": "constant",
    }
    expected = checked_numbers(model, card)
    measured = checked_numbers(model, subset_results(model))
    for key, (kind, value) in expected.items():
        assert abs(measured[key][1] - value) <= TOLERANCE[kind], (name, key, measured[key][1], value)
    # and the numbers are a trained model's, not a floor's: better than the constant probe
    assert (
        min(v for k, (kind, v) in measured.items() if kind == "mae") < card["probe"]["constant"]["mae"]["mean"] - 0.05
    )
    readme = (zoo_dir() / name / "README.md").read_text()
    assert f"{card['probe'][('e' if model.reference_based else 'all')]['mae']['mean']:.3f}" in readme
    assert np.isfinite(model.get_weights()[0]).all()
    transfer = card["transfer"]
    assert transfer["available"] == model.reference_based  # n/a for the models without an e/z split
    if model.reference_based:
        assert f"{transfer['transfer']['content_kept']:.2f}" in readme

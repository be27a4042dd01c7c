"""The card test's numbers and its tolerance: what tests/zoo/test_presets.py re-measures of each preset on a
prefix of the probe splits, and by how much those numbers move against the card (`measure`, written to
docs/zoo/card-tolerance.txt).

    python -m research.train_zoo tolerance          # every preset, on 500, 1,000 and 2,000 images
"""

import json
import time

from rbvae_tf import data, from_preset
from rbvae_tf.evaluation.protocols import evaluate_mnist
from rbvae_tf.evaluation.readers import shipped_readers
from rbvae_tf.evaluation.transfer import evaluate_transfer
from rbvae_tf.presets import zoo_dir
from research.tables import MODELS

SUBSET = 2000  # probe images of each split that the card test evaluates on


def checked_numbers(model, results):
    """{name: (kind, value)} of the numbers a card states and the card test checks."""
    names = ("e", "z") if model.reference_based else ("all",)
    numbers = {f"probe {n}": ("mae", results["probe"][n]["mae"]["mean"]) for n in names}
    numbers.update({f"digits {n}": ("digits", results["digit_accuracy"][n]) for n in names})
    if model.reference_based:
        scores = results["transfer"]["transfer"]
        numbers.update(
            {
                "content kept": ("transfer", scores["content_kept"]),
                "style taken": ("transfer", scores["style_taken"]["mean"]),
            }
        )
    return numbers


def subset_results(model, subset=SUBSET, mnist=None):
    """`evaluate_mnist` on the first `subset` images of the probe splits of the preset's data (built from
    `mnist`, default: the bundled zoo/data/mnist.npz)."""
    mnist = str(mnist or zoo_dir() / "data" / "mnist.npz")
    folder = data.cached_mnist_style(size=model.image_size, seed=0, limit=subset, mnist_path=mnist)
    train, test = data.load_split(folder, "probe_train"), data.load_split(folder, "probe_test")
    results = evaluate_mnist(model, train, test)
    if model.reference_based:  # the readers of the full data, the ones the cards were scored with
        results["transfer"] = evaluate_transfer(model, test, shipped_readers(model.image_size, 0, mnist))
    return results


def measure(subsets=(1000,), models=None):
    """Measures the card test's tolerance: |number on the first N probe images - number on the card|
    for every preset (or those of `models`) and number that the card test checks. Prints a table; returns
    the largest difference per kind of number."""
    largest = {}
    for subset in subsets:
        for model_name in models or MODELS:
            name = f"{model_name}-mnist-cpu"
            model, _ = from_preset(name)
            card = checked_numbers(model, json.loads((zoo_dir() / name / "metrics.json").read_text()))
            began = time.perf_counter()
            measured = checked_numbers(model, subset_results(model, subset))
            seconds = time.perf_counter() - began
            for key, (kind, value) in card.items():
                difference = abs(measured[key][1] - value)
                largest[(subset, kind)] = max(largest.get((subset, kind), 0.0), difference)
                print(
                    f"{subset:5d} {name:22s} {key:10s} card {value:.4f} subset {measured[key][1]:.4f} "
                    f"|diff| {difference:.4f} ({seconds:.1f} s)"
                )
    for (subset, kind), value in sorted(largest.items()):
        print(f"largest |diff| on {subset} images, {kind}: {value:.4f}")
    return largest

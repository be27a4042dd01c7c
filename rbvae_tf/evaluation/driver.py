"""`evaluate`: loads the probe data of a model, runs a protocol and writes the report."""

import os
import time

from rbvae_tf import data as data_lib
from rbvae_tf.batching import BATCH_SIZE
from rbvae_tf.callbacks import read_history
from rbvae_tf.evaluation.encoding import model_kind
from rbvae_tf.evaluation.paper import PAPER_NAMES, PAPER_Z_MEAN_MNIST, paper_row
from rbvae_tf.evaluation.protocols import evaluate_folder, evaluate_mnist
from rbvae_tf.evaluation.readers import readers_for
from rbvae_tf.evaluation.report import write_results
from rbvae_tf.evaluation.transfer import evaluate_transfer, not_applicable
from rbvae_tf.health import branch_health, discriminator_accuracies
from rbvae_tf.loading import mnist_style_source, reference_width_of

HEALTH_IMAGES = 1000


def model_summary(model, info=None):
    """What metrics.json records about the model."""
    info = info or {}
    return {
        "name": info.get("name"),
        "path": info.get("path"),
        "kind": model_kind(model),
        "class": type(model).__name__,
        "reference_based": bool(model.reference_based),
        "image_size": model.image_size,
        "width": model.width,
        "target_dim": model.target_dim,
        "common_dim": model.common_dim,
        "fit": info.get("fit"),
    }


def evaluate(
    model,
    out_dir,
    info=None,
    probe_dir=None,
    mnist=None,
    data_seed=None,
    limit=None,
    batch_size=BATCH_SIZE,
    seed=0,
    data=None,
):
    """Runs the evaluation of `model` and writes `out_dir/metrics.json` and `out_dir/metrics.md`.

    Args:
        model: LatentModel.
        out_dir: str or pathlib.Path. Created if missing; files are replaced atomically.
        info: dict or None. The `info` of `loading.load_trained` (name, path, fit config).
        probe_dir: str, pathlib.Path or None. A labelled folder (one sub-folder per class): run the
            classification protocol on it instead of the MNIST-style probe splits.
        mnist: str or None. MNIST source of the MNIST-style data. Defaults to the run's, then the
            usual lookup (`data.load_mnist`).
        data_seed: int or None. Seed of the MNIST-style data. Defaults to the run's, then 0.
        limit: int or None. Cap on the images of each probe split. Defaults to None (5000 each).
        batch_size: int. Images per encoder call. Defaults to 500.
        seed: int. Seed of the untrained floor, DCI and the folder split. Defaults to 0.
        data: str, pathlib.Path or None. A built MNIST-style folder (`make_mnist_style`) to read the
            probe splits from, checked to be at the model's size. Defaults to the run's, if it
            trained on one, else the cached build of `mnist` and `data_seed`.

    Returns:
        dict, the content of metrics.json. On MNIST-style data it holds `transfer`: for reference-based
        models the transfer and generation scores (`evaluation.transfer.evaluate_transfer`, with the
        readers of the data, `evaluation.readers.readers_for`), else `{"available": False, "reason"}`.
    """
    started = time.perf_counter()
    results = {"model": model_summary(model, info)}
    if probe_dir is not None:
        folder = data_lib.load_probe_folder(probe_dir, model.image_size)
        results["data"] = {
            "source": "folder",
            "path": str(probe_dir),
            "images": int(len(folder["labels"])),
            "class_names": list(folder["class_names"]),
        }
        results.update(evaluate_folder(model, folder, batch_size, seed))
    else:
        folder, cap = mnist_style_source(model, info, data, mnist, data_seed, limit)
        train, test = data_lib.load_split(folder, "probe_train", cap), data_lib.load_split(folder, "probe_test", cap)
        built = data_lib.read_built(folder)
        results["data"] = {
            "source": "mnist-style",
            "folder": str(folder),
            "size": model.image_size,
            "seed": built["seed"],
            "limit": limit,
            "probe_train": int(len(train["images"])),
            "probe_test": int(len(test["images"])),
        }
        results.update(evaluate_mnist(model, train, test, batch_size, seed))
        if model.reference_based:
            results["health"] = reference_health(model, info, mnist, data_seed, limit, seed, data)
            results["transfer"] = evaluate_transfer(model, test, readers_for(folder), seed=seed)
        else:
            results["transfer"] = not_applicable(model)
        kind = model_kind(model)
        results["paper"] = {
            "model": PAPER_NAMES.get(kind),
            "features": "e" if model.reference_based else "all",
            "mae": paper_row(kind),
            "z_mean": PAPER_Z_MEAN_MNIST.get(kind),
        }
    results["seconds"] = round(time.perf_counter() - started, 1)
    write_results(results, out_dir)
    return results


def reference_health(model, info=None, mnist=None, data_seed=None, limit=None, seed=0, data=None):
    """Branch health (`rbvae_tf.health`) on the first 1000 unlabelled and reference images of the
    MNIST-style set the run was trained on (its reference width, or the built `data` folder), plus
    the discriminators' accuracies of the last epoch of its history.csv when there is one."""
    folder, cap = mnist_style_source(model, info, data, mnist, data_seed, limit, reference_width_of(info))
    unlabelled = data_lib.load_split(folder, "unlabelled", cap)["images"][:HEALTH_IMAGES]
    reference = data_lib.load_split(folder, "reference", cap)["images"][:HEALTH_IMAGES]
    health = branch_health(model, data_lib.to_unit_range(unlabelled), data_lib.to_unit_range(reference), seed)
    health["reference_width"] = data_lib.read_built(folder)["reference_width"]
    path = (info or {}).get("path")
    history = read_history(os.path.join(path, "history.csv")) if path and os.path.isdir(path) else []
    health["discriminator_accuracy"] = discriminator_accuracies(history)
    return health

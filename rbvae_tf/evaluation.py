"""Evaluation of a trained model: the feature-learning probes of Table 1 (Sec. 5.3 of Ruiz et al.,
arXiv 1901.08534) and the disentanglement metrics, written as `metrics.json` and `metrics.md`.

Images are encoded in batches to posterior means (no sampling). The feature sets are `e`, `z` and
`all` (e concatenated with z) for the reference-based models and `all` for the unsupervised ones;
the paper reports `e` for Rb-VAE / sRb-VAE and `all` for the baselines. Two floors put the numbers
in context: `constant` (always predict the train mean) and `untrained` (the same architecture with
a seeded random initialisation, encoded the same way: its e features for reference-based models,
all latents otherwise).

Example:
>>> from rbvae_tf.models import build_model
>>> model = build_model("srbvae", image_size=16, width=0.125, target_dim=4, common_dim=4)
>>> results = evaluate(model, "eval_out", limit=200)  # doctest: +SKIP
>>> sorted(results["probe"])  # doctest: +SKIP
['all', 'constant', 'e', 'untrained', 'z']
"""

import json
import math
import os
import time

import keras
import numpy as np
import tensorflow as tf
from threadpoolctl import threadpool_limits

from rbvae_tf import data as data_lib
from rbvae_tf.callbacks import read_history
from rbvae_tf.errors import UserError
from rbvae_tf.health import branch_health, discriminator_accuracies
from rbvae_tf.files import make_folder, write_text_atomically
from rbvae_tf.metrics import all_metrics, classification_probe, constant_probe, normalise_factors, regression_probe
from rbvae_tf.models import MODELS

BATCH_SIZE = 500  # images per encoder call: fast on CPU, small in memory
# scikit-learn's BLAS/OpenMP threads spin-wait when the CPU is shared: on 2 busy cores a logistic
# regression took 40 s with 2 threads and 0.4 s with 1. The probes run single-threaded.
SKLEARN_THREADS = 1
FACTOR_COLUMNS = ("R", "G", "B", "scale", "width", "mean")
FACTOR_HEADERS = ("R", "G", "B", "Scale", "Width", "Avg")
METRIC_NAMES = ("sap", "mig", "dci_disentanglement", "dci_completeness", "dci_informativeness")

# Table 1 of the paper, MNIST, mean absolute error (features: e for Rb models, all latents otherwise).
PAPER_TABLE1_MNIST = {
    "vae": (0.099, 0.104, 0.101, 0.034, 0.085, 0.085),
    "dip-vae-i": (0.055, 0.064, 0.063, 0.038, 0.100, 0.064),
    "dip-vae-ii": (0.077, 0.069, 0.076, 0.035, 0.098, 0.071),
    "beta-vae": (0.093, 0.099, 0.094, 0.039, 0.089, 0.083),
    "svae": (0.094, 0.092, 0.084, 0.036, 0.104, 0.082),
    "rbvae": (0.065, 0.069, 0.062, 0.061, 0.095, 0.070),
    "srbvae": (0.057, 0.053, 0.055, 0.038, 0.095, 0.060),
}
# Sec. 5.3, text: average MAE on MNIST with the z features instead of e.
PAPER_Z_MEAN_MNIST = {"rbvae": 0.195, "srbvae": 0.189}
PAPER_NAMES = {"vae": "VAE", "dip-vae-i": "DIP-VAE-I", "dip-vae-ii": "DIP-VAE-II", "beta-vae": "beta-VAE",
               "svae": "sVAE", "rbvae": "Rb-VAE", "srbvae": "sRb-VAE"}


# --- encoding ---------------------------------------------------------------------------------


def model_kind(model):
    """The CLI name of a model (`"srbvae"`, `"dip-vae-ii"`, ...), or its class name if not in the zoo."""
    for name, (cls, fixed) in MODELS.items():
        if type(model) is cls and all(getattr(model, key, None) == value for key, value in fixed.items()):
            return name
    return type(model).__name__


def feature_names(model):
    """`("e", "z", "all")` for reference-based models, `("all",)` for unsupervised ones."""
    return ("e", "z", "all") if model.reference_based else ("all",)


def _as_float(images):
    images = np.asarray(images)
    return data_lib.to_unit_range(images) if images.dtype == np.uint8 else images.astype(np.float32)


def encode_features(model, images, batch_size=BATCH_SIZE, target_only=False, sample_seed=None):
    """Posterior means (and, with `sample_seed`, posterior samples) of `images` by feature set.

    Args:
        model: LatentModel.
        images: uint8 (N, S, S, 3) or float images in [-1, 1].
        batch_size: int. Images per encoder call. Defaults to 500.
        target_only: bool. Only the e features of a reference-based model (one encoder, half
            the time). Defaults to False.
        sample_seed: int or None. Also return one sample of each posterior, `mean + sigma * noise`
            with noise from `np.random.default_rng(sample_seed)`, as `<name>_sampled`. Defaults
            to None (means only).

    Returns:
        dict of float32 arrays (N, D): `e`, `z`, `all` (e then z) for reference-based models
        (only `e` with `target_only`), `all` for unsupervised models; plus `<name>_sampled`.
    """
    encode = model.encode_target if target_only and model.reference_based else model.encode
    # One traced graph for every batch size: about 3x faster than eager calls on a busy CPU.
    spec = tf.TensorSpec([None, model.image_size, model.image_size, 3], tf.float32)

    def posterior(batch):
        result = encode(batch)
        return result["mean"], result["log_var"]

    encode_posterior = tf.function(posterior, input_signature=[spec])
    chunks = [[t.numpy() for t in encode_posterior(_as_float(images[start:start + batch_size]))]
              for start in range(0, len(images), batch_size)]
    means = np.concatenate([c[0] for c in chunks]).astype(np.float32)
    features = {"all": means}
    if sample_seed is not None:
        log_vars = np.concatenate([c[1] for c in chunks]).astype(np.float32)
        noise = np.random.default_rng(sample_seed).standard_normal(means.shape).astype(np.float32)
        features["all_sampled"] = means + np.exp(0.5 * log_vars) * noise
    if not model.reference_based:
        return features
    if target_only:
        return {name.replace("all", "e"): value for name, value in features.items()}
    split = {}
    for name, value in features.items():
        suffix = name[3:]  # "" or "_sampled"
        split.update({f"e{suffix}": value[:, :model.target_dim], f"z{suffix}": value[:, model.target_dim:],
                      name: value})
    return split


def untrained_copy(model, seed=0):
    """The same architecture and config as `model` with a fresh random initialisation.

    Seeds Keras' global random state (`keras.utils.set_random_seed(seed)`), so the copy is the same
    for the same seed.
    """
    keras.utils.set_random_seed(seed)
    return type(model).from_config(model.get_config())


# --- protocols --------------------------------------------------------------------------------


def evaluate_mnist(model, probe_train, probe_test, batch_size=BATCH_SIZE, seed=0):
    """Table 1 (MNIST): linear regression of the normalised factors and digit classification.

    Args:
        model: LatentModel.
        probe_train: dict with `images` uint8, `factors` (N, 5) raw and `labels` (N,), e.g. from
            `data.load_split(folder, "probe_train")`. The probes are fitted on it.
        probe_test: dict, the same for the split the probes are scored on.
        batch_size: int. Images per encoder call. Defaults to 500.
        seed: int. Seed of the untrained floor's initialisation and of DCI. Defaults to 0.

    Returns:
        dict with `probe` (feature set or floor -> `{"mae": {R, G, B, scale, width, mean}}`),
        `digit_accuracy` (feature set -> mean per-class accuracy), `digit_classification`
        (the full `classification_probe` results) and `metrics` (`e` and `z`, or `all` for
        unsupervised models -> SAP, MIG, DCI).
    """
    train_factors = normalise_factors(probe_train["factors"])
    test_factors = normalise_factors(probe_test["factors"])
    n_train, n_test = len(probe_train["images"]), len(probe_test["images"])
    if min(n_train, n_test) < 10:
        raise UserError(f"the probe splits are too small ({n_train} train, {n_test} test images); raise --limit")
    images = np.concatenate([probe_train["images"], probe_test["images"]])
    codes = encode_features(model, images, batch_size, sample_seed=seed)
    train = {name: value[:n_train] for name, value in codes.items()}
    test = {name: value[n_train:] for name, value in codes.items()}
    names = feature_names(model)
    sampled_names = tuple(f"{name}_sampled" for name in names)
    floor_name = "e" if model.reference_based else "all"
    floor = encode_features(untrained_copy(model, seed), images, batch_size, target_only=True)[floor_name]
    floor_train, floor_test = floor[:n_train], floor[n_train:]

    with threadpool_limits(limits=SKLEARN_THREADS):
        probe = {name: regression_probe(train[name], train_factors, test[name], test_factors)
                 for name in names + sampled_names}
        probe["constant"] = constant_probe(train_factors, test_factors)
        probe["untrained"] = regression_probe(floor_train, train_factors, floor_test, test_factors)
        classification = {name: classification_probe(train[name], probe_train["labels"], test[name],
                                                     probe_test["labels"]) for name in names + sampled_names}
        disentangled = ("e", "z") if model.reference_based else ("all",)
        metrics = {name: all_metrics(train[name], train_factors, test[name], test_factors, seed=seed)
                   for name in disentangled}
    return {
        "probe": probe,
        "digit_accuracy": {name: result["accuracy"]["mean"] for name, result in classification.items()},
        "digit_classification": classification,
        "metrics": metrics,
    }


def stratified_halves(labels, seed=0):
    """Splits indices 50/50 within each class (odd counts: the extra one to train), deterministically.

    Returns:
        (train_indices, test_indices), each sorted int64 arrays.
    """
    labels = np.asarray(labels)
    rng = np.random.default_rng(seed)
    train, test = [], []
    for label in np.unique(labels):
        members = rng.permutation(np.flatnonzero(labels == label))
        half = (len(members) + 1) // 2
        train.append(members[:half])
        test.append(members[half:])
    return np.sort(np.concatenate(train)), np.sort(np.concatenate(test))


def evaluate_folder(model, folder, batch_size=BATCH_SIZE, seed=0):
    """The AffectNet protocol on a labelled folder: per-class accuracy of a linear classifier.

    The images are split 50/50 per class (`stratified_halves`); the classifier is fitted on one
    half of the codes and scored on the other, for each feature set and the untrained floor.

    Args:
        model: LatentModel.
        folder: dict with `images` uint8, `labels` and `class_names`, from `data.load_probe_folder`.
        batch_size: int. Images per encoder call. Defaults to 500.
        seed: int. Seed of the split and of the untrained floor. Defaults to 0.

    Returns:
        dict with `classification` (feature set or `untrained` -> `{"accuracy": {class: float,
        "mean": float}, "overall": float}`) and `accuracy` (the same -> mean per-class accuracy).
    """
    labels, names = np.asarray(folder["labels"]), list(folder["class_names"])
    counts = np.bincount(labels, minlength=len(names))
    if len(names) < 2:
        raise UserError("the probe folder needs at least two class sub-folders")
    if counts.min() < 2:
        raise UserError(f"class {names[int(np.argmin(counts))]!r} of the probe folder has fewer than 2 images")
    train_idx, test_idx = stratified_halves(labels, seed)
    codes = encode_features(model, folder["images"], batch_size)
    untrained = untrained_copy(model, seed)
    floor_name = "e" if model.reference_based else "all"
    codes["untrained"] = encode_features(untrained, folder["images"], batch_size, target_only=True)[floor_name]
    with threadpool_limits(limits=SKLEARN_THREADS):
        classification = {
            name: classification_probe(codes[name][train_idx], labels[train_idx], codes[name][test_idx],
                                       labels[test_idx], class_names=names)
            for name in (*feature_names(model), "untrained")
        }
    return {"classification": classification,
            "accuracy": {name: result["accuracy"]["mean"] for name, result in classification.items()},
            "split": {"train": int(len(train_idx)), "test": int(len(test_idx)), "seed": seed}}


# --- the evaluate command ---------------------------------------------------------------------


def data_options(info, mnist=None, data_seed=None):
    """MNIST source and data seed: the given values, else those of the run's fit config, else defaults.

    A model trained on image folders gets no MNIST-style data unless `mnist` is given.
    """
    fit = (info or {}).get("fit") or {}
    if mnist is None and (fit.get("reference") or fit.get("unlabelled")):
        raise UserError(f"{(info or {}).get('name') or 'this model'} was trained on image folders, so MNIST-style "
                        "probe images do not fit it: give your own (evaluate --probe DIR, generate --images, "
                        "transfer --content/--style) or --mnist to use MNIST-style data anyway")
    return (mnist if mnist is not None else fit.get("mnist"),
            data_seed if data_seed is not None else int(fit.get("data_seed") or 0))


def model_summary(model, info=None):
    """What metrics.json records about the model."""
    info = info or {}
    return {"name": info.get("name"), "path": info.get("path"), "kind": model_kind(model),
            "class": type(model).__name__, "reference_based": bool(model.reference_based),
            "image_size": model.image_size, "width": model.width, "target_dim": model.target_dim,
            "common_dim": model.common_dim, "fit": info.get("fit")}


def evaluate(model, out_dir, info=None, probe_dir=None, mnist=None, data_seed=None, limit=None,
             batch_size=BATCH_SIZE, seed=0):
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

    Returns:
        dict, the content of metrics.json.
    """
    started = time.perf_counter()
    results = {"model": model_summary(model, info)}
    if probe_dir is not None:
        folder = data_lib.load_probe_folder(probe_dir, model.image_size)
        results["data"] = {"source": "folder", "path": str(probe_dir), "images": int(len(folder["labels"])),
                           "class_names": list(folder["class_names"])}
        results.update(evaluate_folder(model, folder, batch_size, seed))
    else:
        mnist, data_seed = data_options(info, mnist, data_seed)
        folder = data_lib.cached_mnist_style(size=model.image_size, seed=data_seed, limit=limit, mnist_path=mnist)
        train, test = data_lib.load_split(folder, "probe_train"), data_lib.load_split(folder, "probe_test")
        results["data"] = {"source": "mnist-style", "folder": str(folder), "size": model.image_size,
                           "seed": data_seed, "limit": limit, "probe_train": int(len(train["images"])),
                           "probe_test": int(len(test["images"]))}
        results.update(evaluate_mnist(model, train, test, batch_size, seed))
        if model.reference_based:
            results["health"] = reference_health(model, info, mnist, data_seed, limit, seed)
        kind = model_kind(model)
        results["paper"] = {"model": PAPER_NAMES.get(kind), "features": "e" if model.reference_based else "all",
                            "mae": _paper_row(kind), "z_mean": PAPER_Z_MEAN_MNIST.get(kind)}
    results["seconds"] = round(time.perf_counter() - started, 1)
    write_results(results, out_dir)
    return results


HEALTH_IMAGES = 1000


def reference_width_of(info):
    """The reference outline width the run was trained with (1, the paper's, when unknown)."""
    fit = (info or {}).get("fit") or {}
    return int(fit.get("reference_width") or 1)


def reference_health(model, info=None, mnist=None, data_seed=0, limit=None, seed=0):
    """Branch health (`rbvae_tf.health`) on the first 1000 unlabelled and reference images of the
    MNIST-style set the run was trained on (its reference width), plus the discriminators'
    accuracies of the last epoch of its history.csv when there is one."""
    folder = data_lib.cached_mnist_style(size=model.image_size, seed=data_seed, limit=limit, mnist_path=mnist,
                                         reference_width=reference_width_of(info))
    unlabelled = data_lib.load_split(folder, "unlabelled")["images"][:HEALTH_IMAGES]
    reference = data_lib.load_split(folder, "reference")["images"][:HEALTH_IMAGES]
    health = branch_health(model, data_lib.to_unit_range(unlabelled), data_lib.to_unit_range(reference), seed)
    health["reference_width"] = reference_width_of(info)
    path = (info or {}).get("path")
    history = read_history(os.path.join(path, "history.csv")) if path and os.path.isdir(path) else []
    health["discriminator_accuracy"] = discriminator_accuracies(history)
    return health


def _paper_row(kind):
    row = PAPER_TABLE1_MNIST.get(kind)
    return dict(zip(FACTOR_COLUMNS, row)) if row else None


# --- files ------------------------------------------------------------------------------------


def _json_safe(value):
    """NaN/inf -> None, numpy scalars -> Python numbers, recursively (strict JSON)."""
    if isinstance(value, dict):
        return {str(key): _json_safe(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(item) for item in value]
    if isinstance(value, (np.floating, float)):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, np.integer):
        return int(value)
    return value


def write_results(results, out_dir):
    """Writes `metrics.json` and `metrics.md` into `out_dir` (each replaced atomically)."""
    out_dir = make_folder(out_dir)
    text = json.dumps(_json_safe(results), indent=2, allow_nan=False)
    write_text_atomically(out_dir / "metrics.json", text + "\n")
    write_text_atomically(out_dir / "metrics.md", metrics_markdown(results))
    return out_dir / "metrics.json", out_dir / "metrics.md"


def _number(value):
    return "-" if value is None or (isinstance(value, float) and not math.isfinite(value)) else f"{value:.3f}"


def _table(headers, rows):
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


FEATURE_LABELS = {"e": "e (target)", "z": "z (common)", "all": "all (e, z)", "constant": "constant (floor)",
                  "untrained": "untrained (floor)", "e_sampled": "e, posterior sample", "z_sampled": "z, posterior sample",
                  "all_sampled": "all, posterior sample"}


def metrics_markdown(results):
    """Table-1-style Markdown report of `results` (as returned by `evaluate`)."""
    model = results["model"]
    lines = [f"# Evaluation of {model['name'] or model['kind']} ({model['kind']}, {model['image_size']} px)", ""]
    if "classification" in results:
        return "\n".join(lines + _folder_markdown(results)) + "\n"
    data = results["data"]
    lines += [f"MNIST-style probe splits: {data['probe_train']} train / {data['probe_test']} test images "
              f"(data seed {data['seed']}); posterior means, and one posterior sample per image in the "
              f"`posterior sample` rows; {results['seconds']} s.", ""]
    kind, paper = model["kind"], results["paper"]
    lines += ["## Feature learning (Table 1, MNIST): MAE of linear regressors of the target factors", ""]
    if model["reference_based"]:
        lines += ["What a good split wants: e low (it holds the target factors), z high, near the constant floor "
                  "(z holds none of them). The paper reports the e row for Rb models and z in the text of Sec. 5.3.",
                  ""]
    else:
        lines += ["Lower is better. The paper reports the all-latents row for unsupervised models.", ""]
    rows = []
    for name, result in results["probe"].items():
        paper_mean = None
        if paper["mae"] and name == paper["features"]:
            paper_mean = paper["mae"]["mean"]
        elif name == "z":
            paper_mean = paper["z_mean"]
        rows.append([FEATURE_LABELS.get(name, name), *(_number(result["mae"][c]) for c in FACTOR_COLUMNS),
                     _number(paper_mean)])
    paper_header = f"Paper Avg ({paper['model']})" if paper["model"] else "Paper Avg"
    lines += [_table(("Features", *FACTOR_HEADERS, paper_header), rows), ""]
    lines += ["### Paper, Table 1 (MNIST, MAE; e for Rb models, all latents otherwise)", ""]
    paper_rows = [[f"**{PAPER_NAMES[name]}**" if name == kind else PAPER_NAMES[name], *(_number(v) for v in row)]
                  for name, row in PAPER_TABLE1_MNIST.items()]
    lines += [_table(("Model", *FACTOR_HEADERS), paper_rows), "",
              "With z as features (Sec. 5.3): Rb-VAE .195, sRb-VAE .189 average MAE.", ""]
    lines += ["## Digit classification: mean per-class accuracy of a linear classifier", ""]
    if model["reference_based"]:
        lines += ["What a good split wants: z high (the digit is a common factor), e low (near chance, 0.1).", ""]
    rows = [[FEATURE_LABELS[name], _number(accuracy), _number(results["digit_classification"][name]["overall"])]
            for name, accuracy in results["digit_accuracy"].items()]
    lines += [_table(("Features", "Mean per-class", "Overall"), rows), ""]
    lines += ["## Disentanglement metrics of the target factors (normalised)", ""]
    if model["reference_based"]:
        lines += ["What a good split wants: high on e, low on z (z should not hold the target factors).", ""]
    rows = [[FEATURE_LABELS[name], *(_number(scores[m]) for m in METRIC_NAMES)]
            for name, scores in results["metrics"].items()]
    lines += [_table(("Features", "SAP", "MIG", "DCI D", "DCI C", "DCI I"), rows)]
    if "health" in results:
        lines += ["", *health_markdown(results["health"])]
    return "\n".join(lines) + "\n"


def health_markdown(health):
    """The branch-health section of metrics.md (see `rbvae_tf.health`)."""
    accuracies = ", ".join(f"{name} {value:.3f}" for name, value in health["discriminator_accuracy"].items())
    rows = [
        ("reference L1 / all-black L1", _number(health["reference_l1_ratio"]), "< 1 (1: G(z_r, e_r) is black)"),
        ("mass of G(z, e ~ N(0, I)) / data", _number(health["sampled_mass_ratio"]), "near 1 (0: black)"),
        ("mass of G(z, e_r) / reference data", _number(health["reference_mass_ratio"]), "near 1 (0: black)"),
        ("mean norm of e (posterior means)", _number(health["e_norm"]),
         f"prior {health['e_prior_norm']:.2f}"),
        ("mean norm of z (posterior means)", _number(health["z_norm"]),
         f"prior {health['z_prior_norm']:.2f}"),
        ("norm of e_r", _number(health["reference_target_norm"]), "starts at 0"),
    ]
    return ["## Reference-branch health (1000 unlabelled and 1000 reference training images, "
            f"reference outline width {health['reference_width']} px at 64 px)", "",
            _table(("Quantity", "Value", "Healthy"), [list(r) for r in rows]), "",
            f"Discriminator accuracies of the last training epoch: {accuracies or 'not recorded'}."]


def _folder_markdown(results):
    data, classification = results["data"], results["classification"]
    lines = [f"Labelled folder {data['path']}: {data['images']} images, {len(data['class_names'])} classes, "
             f"split 50/50 per class ({results['split']['train']} train / {results['split']['test']} test); "
             f"{results['seconds']} s.", "",
             "## Per-class accuracy of a linear classifier (AffectNet protocol of Table 1), higher is better", ""]
    classes = data["class_names"]
    rows = [[FEATURE_LABELS.get(name, name), *(_number(result["accuracy"][c]) for c in classes),
             _number(result["accuracy"]["mean"])] for name, result in classification.items()]
    return lines + [_table(("Features", *classes, "Avg"), rows)]


def summary_lines(results):
    """A few lines for the terminal: average MAE per feature set and digit accuracy, or folder accuracy."""
    if "classification" in results:
        return [f"{name:>10}: mean per-class accuracy {value:.3f}" for name, value in results["accuracy"].items()]
    lines = [f"{name:>10}: MAE avg {result['mae']['mean']:.3f}" for name, result in results["probe"].items()]
    lines += [f"{name:>10}: digit accuracy {value:.3f}" for name, value in results["digit_accuracy"].items()]
    if "health" in results:
        health = results["health"]
        lines.append(f"reference L1 / all-black {health['reference_l1_ratio']:.3f}, mass of G(z, e~N) / data "
                     f"{health['sampled_mass_ratio']:.3f}, |e| {health['e_norm']:.1f} (prior "
                     f"{health['e_prior_norm']:.1f}), |e_r| {health['reference_target_norm']:.2f}")
    if results["paper"]["mae"]:
        lines.append(f"paper ({results['paper']['model']}, {results['paper']['features']}): "
                     f"MAE avg {results['paper']['mae']['mean']:.3f}")
    return lines

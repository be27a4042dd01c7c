"""The two probe protocols of Table 1: MNIST-style factors and digits, and a labelled image folder."""

import numpy as np
from threadpoolctl import threadpool_limits

from rbvae_tf.batching import BATCH_SIZE
from rbvae_tf.errors import UserError
from rbvae_tf.evaluation.encoding import encode_features, feature_names, untrained_copy
from rbvae_tf.metrics import all_metrics, classification_probe, constant_probe, normalise_factors, regression_probe

# scikit-learn's BLAS/OpenMP threads spin-wait when the CPU is shared: on 2 busy cores a logistic
# regression took 40 s with 2 threads and 0.4 s with 1. The probes run single-threaded.
SKLEARN_THREADS = 1


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
        probe = {
            name: regression_probe(train[name], train_factors, test[name], test_factors)
            for name in names + sampled_names
        }
        probe["constant"] = constant_probe(train_factors, test_factors)
        probe["untrained"] = regression_probe(floor_train, train_factors, floor_test, test_factors)
        classification = {
            name: classification_probe(train[name], probe_train["labels"], test[name], probe_test["labels"])
            for name in names + sampled_names
        }
        disentangled = ("e", "z") if model.reference_based else ("all",)
        metrics = {
            name: all_metrics(train[name], train_factors, test[name], test_factors, seed=seed) for name in disentangled
        }
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
            name: classification_probe(
                codes[name][train_idx], labels[train_idx], codes[name][test_idx], labels[test_idx], class_names=names
            )
            for name in (*feature_names(model), "untrained")
        }
    return {
        "classification": classification,
        "accuracy": {name: result["accuracy"]["mean"] for name, result in classification.items()},
        "split": {"train": int(len(train_idx)), "test": int(len(test_idx)), "seed": seed},
    }

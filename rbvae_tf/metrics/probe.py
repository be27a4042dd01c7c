"""Feature-learning probes of Sec. 5.3 of Ruiz et al. (arXiv 1901.08534), Table 1.

A frozen encoder's codes are judged by how well a *linear* model reads the ground-truth
factors (regression, MNIST: colour, scale, stroke width) or the class labels (classification,
AffectNet: expressions) out of them. Everything here is plain numpy / scikit-learn: the
caller encodes the images and hands over arrays.
"""

import numpy as np
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.preprocessing import StandardScaler

from rbvae_tf.metrics._arrays import as_labels, as_matrix, as_pair

FACTOR_NAMES = ("R", "G", "B", "scale", "width")

# Range of the raw MNIST factors as drawn by the data generator (Sec. 5.1 of the paper).
SCALE_RANGE = (0.5, 1.0)
WIDTH_RANGE = (1.0, 10.0)


def normalise_factors(factors):
    """Scales raw MNIST factors to [0, 1], as reported in Table 1 of the paper.

    Colours are already in [0, 1] and are kept as drawn; scale `s` in [0.5, 1] becomes
    `(s - 0.5) / 0.5`; stroke width `k` in [1, 10] becomes `(k - 1) / 9`.

    Args:
        factors: array of shape (N, 5). Raw factors, columns `R, G, B, scale, width`.

    Returns:
        A new float64 array of shape (N, 5); the input is not modified.

    Example:
    >>> normalise_factors([[0.2, 0.4, 0.6, 0.75, 5.5]]).round(3).tolist()
    [[0.2, 0.4, 0.6, 0.5, 0.5]]
    """
    factors = as_matrix(factors, "factors").copy()
    if factors.shape[1] != len(FACTOR_NAMES):
        raise ValueError(f"factors must have {len(FACTOR_NAMES)} columns {FACTOR_NAMES}, got {factors.shape[1]}")
    for column, (low, high) in ((3, SCALE_RANGE), (4, WIDTH_RANGE)):
        factors[:, column] = (factors[:, column] - low) / (high - low)
    return factors


def regression_probe(train_codes, train_factors, test_codes, test_factors, factor_names=FACTOR_NAMES, alpha=1e-6):
    """Mean absolute error of a linear read-out of each factor from the codes (Table 1).

    The codes are standardised with a `StandardScaler` fitted on the train codes; then one
    linear regressor per factor is fitted on train and scored on test. The regressor is
    `Ridge(alpha)` with a tiny `alpha`: it is ordinary least squares for any practical
    purpose, but stays well defined when code dimensions are constant or collinear
    (e.g. collapsed latent units). All factors share one multi-output fit, which gives the
    same coefficients as fitting each factor alone.

    Args:
        train_codes: array of shape (N, D). Codes the regressors are fitted on.
        train_factors: array of shape (N, K). Normalised factors of the train codes
            (see `normalise_factors`).
        test_codes: array of shape (M, D). Codes the error is measured on.
        test_factors: array of shape (M, K). Normalised factors of the test codes.
        factor_names: sequence of K strings. Names of the factor columns.
            Defaults to `FACTOR_NAMES`.
        alpha: float. Ridge penalty on the standardised codes. Defaults to `1e-6`.

    Returns:
        `{"mae": {name: float for each factor, "mean": float}}`, the test MAE of each
        factor and their mean over factors. Lower is better.

    Example:
    >>> rng = np.random.default_rng(0)
    >>> factors = rng.uniform(size=(100, 5))
    >>> result = regression_probe(factors[:80], factors[:80], factors[80:], factors[80:])
    >>> sorted(result["mae"]), result["mae"]["mean"] < 1e-6
    (['B', 'G', 'R', 'mean', 'scale', 'width'], True)
    """
    train_codes, train_factors = as_pair(train_codes, train_factors, "train_codes", "train_factors")
    test_codes, test_factors = as_pair(test_codes, test_factors, "test_codes", "test_factors")
    _check_same_columns(train_codes, test_codes, "codes")
    names = _check_names(factor_names, train_factors, test_factors)
    scaler = StandardScaler().fit(train_codes)
    regressor = Ridge(alpha=alpha).fit(scaler.transform(train_codes), train_factors)
    predictions = regressor.predict(scaler.transform(test_codes)).reshape(test_factors.shape)
    return {"mae": _mae_dict(predictions, test_factors, names)}


def constant_probe(train_factors, test_factors, factor_names=FACTOR_NAMES):
    """Mean absolute error of always predicting the train mean: the floor of Table 1.

    Args:
        train_factors: array of shape (N, K). Normalised train factors; only their mean is used.
        test_factors: array of shape (M, K). Normalised test factors.
        factor_names: sequence of K strings. Names of the factor columns.
            Defaults to `FACTOR_NAMES`.

    Returns:
        `{"mae": {name: float for each factor, "mean": float}}`, as `regression_probe`.

    Example:
    >>> constant_probe([[0.0], [1.0]], [[0.0], [1.0]], factor_names=["R"])
    {'mae': {'R': 0.5, 'mean': 0.5}}
    """
    train_factors = as_matrix(train_factors, "train_factors")
    test_factors = as_matrix(test_factors, "test_factors")
    names = _check_names(factor_names, train_factors, test_factors)
    predictions = np.broadcast_to(train_factors.mean(axis=0), test_factors.shape)
    return {"mae": _mae_dict(predictions, test_factors, names)}


def classification_probe(train_codes, train_labels, test_codes, test_labels, class_names=None, max_iter=2000):
    """Per-class accuracy of a linear classifier on the codes (AffectNet protocol, Sec. 5.3).

    The codes are standardised with a `StandardScaler` fitted on the train codes; a
    multinomial `LogisticRegression` (lbfgs, default L2 penalty `C=1`) is fitted on train.
    The accuracy of a class is the fraction of its test samples predicted as that class
    (its recall); `"mean"` is their unweighted mean, so that frequent classes do not
    dominate. A class without test samples gets NaN and is left out of the mean.

    Args:
        train_codes: array of shape (N, D). Codes the classifier is fitted on.
        train_labels: array of shape (N,). Class of each train code.
        test_codes: array of shape (M, D). Codes the accuracy is measured on.
        test_labels: array of shape (M,). Class of each test code.
        class_names: sequence of strings or None. If given, labels are integers in
            `[0, len(class_names))` and `class_names[i]` names class `i`. If None, the
            classes are the distinct labels of train and test, named `str(label)`.
            Defaults to None.
        max_iter: int. Iteration limit of the lbfgs solver. Defaults to `2000`.

    Returns:
        `{"accuracy": {name: float for each class, "mean": float}, "overall": float}`, where
        `"overall"` is the plain fraction of correctly classified test codes.

    Example:
    >>> codes = np.array([[-2.0], [-1.0], [1.0], [2.0]])
    >>> result = classification_probe(codes, [0, 0, 1, 1], codes, [0, 0, 1, 1], ["neg", "pos"])
    >>> result["accuracy"], result["overall"]
    ({'neg': 1.0, 'pos': 1.0, 'mean': 1.0}, 1.0)
    """
    train_codes = as_matrix(train_codes, "train_codes")
    test_codes = as_matrix(test_codes, "test_codes")
    _check_same_columns(train_codes, test_codes, "codes")
    train_labels = as_labels(train_labels, "train_labels", train_codes.shape[0])
    test_labels = as_labels(test_labels, "test_labels", test_codes.shape[0])
    if class_names is None:
        classes = np.unique(np.concatenate([train_labels, test_labels]))
        names = [str(label) for label in classes]
    else:
        names = [str(name) for name in class_names]
        classes = np.arange(len(names))
        labels = np.concatenate([train_labels, test_labels])
        if not np.all(np.isin(labels, classes)):
            raise ValueError(f"labels must be integers in [0, {len(names)}) when class_names is given")
    _check_unique(names, "class_names")

    scaler = StandardScaler().fit(train_codes)
    classifier = LogisticRegression(max_iter=max_iter).fit(scaler.transform(train_codes), train_labels)
    predictions = classifier.predict(scaler.transform(test_codes))

    accuracy = {}
    for name, label in zip(names, classes):
        in_class = test_labels == label
        accuracy[name] = float(np.mean(predictions[in_class] == label)) if in_class.any() else float("nan")
    accuracy["mean"] = float(np.nanmean(list(accuracy.values())))
    return {"accuracy": accuracy, "overall": float(np.mean(predictions == test_labels))}


def _mae_dict(predictions, targets, names):
    errors = np.mean(np.abs(predictions - targets), axis=0)
    result = {name: float(error) for name, error in zip(names, errors)}
    result["mean"] = float(np.mean(errors))
    return result


def _check_names(factor_names, train_factors, test_factors):
    names = [str(name) for name in factor_names]
    _check_unique(names, "factor_names")
    for factors, which in ((train_factors, "train_factors"), (test_factors, "test_factors")):
        if factors.shape[1] != len(names):
            raise ValueError(f"{which} has {factors.shape[1]} columns but {len(names)} factor names")
    return names


def _check_unique(names, which):
    if len(set(names)) != len(names) or "mean" in names:
        raise ValueError(f"{which} must be distinct and must not contain 'mean', got {names}")


def _check_same_columns(train, test, which):
    if train.shape[1] != test.shape[1]:
        raise ValueError(f"train and test {which} differ in width: {train.shape[1]} vs {test.shape[1]}")

"""Disentanglement metrics for continuous ground-truth factors: SAP, MIG and DCI.

Each metric takes codes of shape (N, D) and factors of shape (N, K) as numpy arrays and
returns a dict of named floats in [0, 1], higher is better. The conventions follow
disentanglement_lib (Locatello et al. 2019) wherever the papers leave a choice open.
"""

import numpy as np
from sklearn.ensemble import GradientBoostingRegressor
from sklearn.metrics import mutual_info_score, r2_score

from rbvae_tf.metrics._arrays import as_pair

# Below this variance a code or factor counts as constant: it explains nothing (SAP).
_MIN_VARIANCE = 1e-12


def sap(codes, factors):
    """Separated Attribute Predictability, continuous variant (Kumar et al. 2018, Sec. 3).

    The score of code `d` for factor `k` is the R^2 of a linear fit of the factor on that
    single code, i.e. their squared Pearson correlation (0 if either is constant). For each
    factor the gap between its best and second-best code score is taken; SAP is the mean gap
    over factors. With a single code dimension the second-best score is 0.

    Args:
        codes: array of shape (N, D). Latent codes, e.g. encoder means.
        factors: array of shape (N, K). Ground-truth factors.

    Returns:
        `{"sap": float}` in [0, 1].

    Example:
    >>> factors = np.array([[0.0], [1.0], [2.0]])
    >>> codes = np.array([[0.0, 0.0], [1.0, 0.0], [2.0, 1.0]])
    >>> sap(codes, factors)  # scores 1 and 3/4
    {'sap': 0.25}
    """
    codes, factors = as_pair(codes, factors)
    scores = r2_matrix(codes, factors)
    top_two = -np.sort(-scores, axis=0)[:2]
    second = top_two[1] if codes.shape[1] > 1 else np.zeros(factors.shape[1])
    return {"sap": float(np.mean(top_two[0] - second))}


def r2_matrix(codes, factors):
    """Squared correlation of every code with every factor, shape (D, K); 0 where constant."""
    codes = codes - codes.mean(axis=0)
    factors = factors - factors.mean(axis=0)
    n = codes.shape[0]
    covariance = codes.T @ factors / n
    code_variance = np.mean(codes**2, axis=0)
    factor_variance = np.mean(factors**2, axis=0)
    denominator = np.outer(code_variance, factor_variance)
    valid = np.outer(code_variance > _MIN_VARIANCE, factor_variance > _MIN_VARIANCE)
    scores = np.zeros_like(covariance)
    scores[valid] = covariance[valid] ** 2 / denominator[valid]
    return np.clip(scores, 0.0, 1.0)


def mig(codes, factors, num_bins=20):
    """Mutual Information Gap (Chen et al. 2018, Eq. 5), histogram estimate.

    Codes and factors are each discretised column by column into `num_bins` equal-width bins
    spanning the column's range (as `histogram_discretize` in disentanglement_lib). For each
    factor `k`, the mutual informations I(z_d; v_k) (`sklearn.metrics.mutual_info_score`,
    nats) are sorted and the gap between the top two is divided by the entropy H(v_k) of the
    discretised factor. MIG is the mean over factors; factors with zero entropy (constant)
    are skipped, and if every factor is constant the result is NaN. With a single code
    dimension the second-best mutual information is 0.

    Args:
        codes: array of shape (N, D). Latent codes, e.g. encoder means.
        factors: array of shape (N, K). Ground-truth factors.
        num_bins: int. Number of bins per column, for codes and factors alike. Defaults to 20.

    Returns:
        `{"mig": float}` in [0, 1] (NaN if every factor is constant).

    Example:
    >>> factors = np.array([[0.0], [0.0], [1.0], [1.0]])
    >>> codes = np.array([[0.0, 5.0], [0.0, 6.0], [1.0, 5.0], [1.0, 6.0]])
    >>> mig(codes, factors, num_bins=2)  # code 0 copies the factor, code 1 is independent
    {'mig': 1.0}
    """
    codes, factors = as_pair(codes, factors)
    code_bins = discretise(codes, num_bins)
    factor_bins = discretise(factors, num_bins)
    gaps = []
    for k in range(factors.shape[1]):
        entropy = mutual_info_score(factor_bins[:, k], factor_bins[:, k])
        if entropy <= 0.0:
            continue
        informations = sorted(
            (mutual_info_score(factor_bins[:, k], code_bins[:, d]) for d in range(codes.shape[1])),
            reverse=True,
        )
        second = informations[1] if len(informations) > 1 else 0.0
        gaps.append((informations[0] - second) / entropy)
    return {"mig": float(np.mean(gaps)) if gaps else float("nan")}


def discretise(values, num_bins=20):
    """Bin index of every entry, column by column, with `num_bins` equal-width bins.

    A constant column falls into a single bin. Returns an int array of the input's shape.
    """
    binned = np.zeros(values.shape, dtype=np.int64)
    for column in range(values.shape[1]):
        edges = np.histogram_bin_edges(values[:, column], bins=num_bins)
        binned[:, column] = np.digitize(values[:, column], edges[:-1])
    return binned


def dci(
    train_codes,
    train_factors,
    test_codes,
    test_factors,
    max_train=1000,
    n_estimators=50,
    max_depth=3,
    seed=0,
):
    """Disentanglement, Completeness, Informativeness (Eastwood & Williams 2018).

    One `GradientBoostingRegressor` per factor is fitted on the train codes. Its
    `feature_importances_` form column `k` of the importance matrix R (D codes x K factors).
    With P the row of R normalised to sum one and H_K the entropy in base K:

    - disentanglement: sum over codes of w_d * (1 - H_K(P_d)), with weights
      w_d = (row sum of d) / (sum of R), so that unused codes do not count;
    - completeness: sum over factors of v_k * (1 - H_D(column k normalised)), with weights
      v_k = (column sum of k) / (sum of R). Each fitted column sums to one, so this is the
      plain mean over factors unless a factor gets no importance at all (constant factor);
    - informativeness: mean over factors of max(0, R^2 on test) of the regressor, so that
      1 is a perfect read-out and 0 is no better than predicting the mean.

    If R is all zero (e.g. constant codes), it is replaced by ones, as in
    disentanglement_lib, which gives disentanglement and completeness 0. With K = 1 factor
    (or D = 1 code) the entropy term is 0 and disentanglement (completeness) is 1.

    To stay fast on 2 CPU cores, at most `max_train` train samples are used, drawn without
    replacement with `seed` (about 3 s for 5 factors, 32 codes and 1000 samples); the test
    set is used in full.

    Args:
        train_codes: array of shape (N, D). Codes the regressors are fitted on.
        train_factors: array of shape (N, K). Factors of the train codes.
        test_codes: array of shape (M, D). Codes informativeness is measured on.
        test_factors: array of shape (M, K). Factors of the test codes.
        max_train: int or None. Largest number of train samples used; None uses all.
            Defaults to 1000.
        n_estimators: int. Boosting stages per regressor. Defaults to 50.
        max_depth: int. Depth of each tree. Defaults to 3.
        seed: int. Seed of the train subsample and of the regressors. Defaults to 0.

    Returns:
        `{"dci_disentanglement": float, "dci_completeness": float,
        "dci_informativeness": float}`, each in [0, 1].

    Example:
    >>> rng = np.random.default_rng(0)
    >>> factors = rng.uniform(size=(400, 2))
    >>> scores = dci(factors[:300], factors[:300], factors[300:], factors[300:])
    >>> all(value > 0.9 for value in scores.values())
    True
    """
    train_codes, train_factors = as_pair(train_codes, train_factors, "train_codes", "train_factors")
    test_codes, test_factors = as_pair(test_codes, test_factors, "test_codes", "test_factors")
    if train_codes.shape[1] != test_codes.shape[1] or train_factors.shape[1] != test_factors.shape[1]:
        raise ValueError("train and test arrays must have the same number of columns")
    if max_train is not None and train_codes.shape[0] > max_train:
        rows = np.random.default_rng(seed).choice(train_codes.shape[0], size=max_train, replace=False)
        train_codes, train_factors = train_codes[rows], train_factors[rows]

    num_codes, num_factors = train_codes.shape[1], train_factors.shape[1]
    importance = np.zeros((num_codes, num_factors))
    informativeness = np.zeros(num_factors)
    for k in range(num_factors):
        regressor = GradientBoostingRegressor(n_estimators=n_estimators, max_depth=max_depth, random_state=seed).fit(
            train_codes, train_factors[:, k]
        )
        importance[:, k] = np.abs(regressor.feature_importances_)
        predictions = regressor.predict(test_codes)
        if np.var(test_factors[:, k]) > 0.0:
            informativeness[k] = max(0.0, r2_score(test_factors[:, k], predictions))
        # A constant test factor has no R^2; it counts as not predicted (0).
    disentanglement, completeness = dci_from_importance(importance)
    return {
        "dci_disentanglement": disentanglement,
        "dci_completeness": completeness,
        "dci_informativeness": float(np.mean(informativeness)),
    }


def dci_from_importance(importance):
    """Disentanglement and completeness of an importance matrix of shape (D codes, K factors).

    See `dci` for the definitions. Returns a pair of floats.

    Example:
    >>> dci_from_importance(np.eye(3))
    (1.0, 1.0)
    """
    importance = np.abs(np.asarray(importance, dtype=np.float64))
    if importance.sum() == 0.0:
        importance = np.ones_like(importance)
    total = importance.sum()
    code_weights = importance.sum(axis=1) / total
    factor_weights = importance.sum(axis=0) / total
    per_code = 1.0 - _normalised_entropy(importance)
    per_factor = 1.0 - _normalised_entropy(importance.T)
    disentanglement = np.clip(np.sum(code_weights * per_code), 0.0, 1.0)
    completeness = np.clip(np.sum(factor_weights * per_factor), 0.0, 1.0)
    return float(disentanglement), float(completeness)


def _normalised_entropy(matrix):
    """Entropy of each row (normalised to sum one) in base = row length; 0 for empty rows."""
    width = matrix.shape[1]
    if width == 1:
        return np.zeros(matrix.shape[0])
    sums = matrix.sum(axis=1, keepdims=True)
    probabilities = np.divide(matrix, sums, out=np.zeros_like(matrix), where=sums > 0)
    logs = np.log(probabilities, out=np.zeros_like(probabilities), where=probabilities > 0)
    return -np.sum(probabilities * logs, axis=1) / np.log(width)


def all_metrics(train_codes, train_factors, test_codes, test_factors, num_bins=20, seed=0):
    """SAP and MIG on the test set, DCI fitted on train and scored on test.

    Args:
        train_codes: array of shape (N, D). Codes DCI's regressors are fitted on.
        train_factors: array of shape (N, K). Factors of the train codes.
        test_codes: array of shape (M, D). Codes SAP, MIG and DCI informativeness use.
        test_factors: array of shape (M, K). Factors of the test codes.
        num_bins: int. Histogram bins of MIG. Defaults to 20.
        seed: int. Seed of DCI's subsample and regressors. Defaults to 0.

    Returns:
        `{"sap", "mig", "dci_disentanglement", "dci_completeness", "dci_informativeness"}`,
        each a float.

    Example:
    >>> rng = np.random.default_rng(0)
    >>> factors = rng.uniform(size=(400, 2))
    >>> sorted(all_metrics(factors[:300], factors[:300], factors[300:], factors[300:]))
    ['dci_completeness', 'dci_disentanglement', 'dci_informativeness', 'mig', 'sap']
    """
    return {
        **sap(test_codes, test_factors),
        **mig(test_codes, test_factors, num_bins=num_bins),
        **dci(train_codes, train_factors, test_codes, test_factors, seed=seed),
    }

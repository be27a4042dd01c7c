"""Shape checks shared by the metrics: every metric takes plain numpy arrays."""

import numpy as np


def as_matrix(array, name):
    """Returns `array` as a finite float64 matrix of shape (N, C), or raises ValueError."""
    matrix = np.asarray(array, dtype=np.float64)
    if matrix.ndim != 2 or matrix.shape[0] == 0 or matrix.shape[1] == 0:
        raise ValueError(f"{name} must be a non-empty 2-D array (N, C), got shape {matrix.shape}")
    if not np.all(np.isfinite(matrix)):
        raise ValueError(f"{name} contains NaN or infinite values")
    return matrix


def as_pair(codes, factors, codes_name="codes", factors_name="factors"):
    """Returns `(codes, factors)` as float64 matrices with the same number of rows."""
    codes = as_matrix(codes, codes_name)
    factors = as_matrix(factors, factors_name)
    if codes.shape[0] != factors.shape[0]:
        raise ValueError(f"{codes_name} has {codes.shape[0]} rows but {factors_name} has {factors.shape[0]}")
    return codes, factors


def as_labels(labels, name, num_rows):
    """Returns `labels` as a 1-D array of length `num_rows`, or raises ValueError."""
    labels = np.asarray(labels)
    if labels.ndim != 1 or labels.shape[0] != num_rows:
        raise ValueError(f"{name} must have shape ({num_rows},), got {labels.shape}")
    return labels

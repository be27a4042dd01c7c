"""Evaluation metrics: plain functions from numpy arrays to dicts of named floats.

Nothing here imports a model or TensorFlow; callers encode the data and pass the codes.
"""

from rbvae_tf.metrics.disentanglement import all_metrics, dci, mig, sap
from rbvae_tf.metrics.probe import (
    FACTOR_NAMES,
    classification_probe,
    constant_probe,
    normalise_factors,
    regression_probe,
)

__all__ = [
    "FACTOR_NAMES",
    "all_metrics",
    "classification_probe",
    "constant_probe",
    "dci",
    "mig",
    "normalise_factors",
    "regression_probe",
    "sap",
]

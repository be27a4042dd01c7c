"""Health of the reference branch of Rb-VAE / sRb-VAE: is the weak supervision reaching the latents?

A dead reference branch (docs/ablations.md, r00-paper) looks like this: G(z_r, e_r) is black for every reference image,
posterior means of e are far outside the prior, e_r stays at its zero start, and generations from
prior samples of e are black. These numbers make that visible, in `evaluate` (metrics.json/md) and
once per epoch during `fit` (history.csv, TensorBoard), computed on the posterior means:

- `reference_l1_ratio`: mean L1 of x_r - G(z_r, e_r) over mean L1 of x_r - black (-1), on reference
  images. 1 is the all-black output; below 1 the branch draws something right.
- `sampled_mass_ratio`: mean pixel mass of G(z, e ~ N(0, I)) over that of the unlabelled images,
  z from unlabelled images (conditional generation). Near 0: prior samples of e give black images.
- `reference_mass_ratio`: mean pixel mass of G(z, e_r) over that of the reference images, z from
  unlabelled images (their "reference versions").
- `e_norm`, `z_norm`: mean Euclidean norm of the posterior means of e and z on unlabelled images;
  `e_prior_norm`, `z_prior_norm`: E||N(0, I)|| in the same dimension, for comparison.
- `reference_target_norm`: ||e_r||.

Mass is the mean of (x + 1) / 2 over pixels and channels (0 for black, 1 for white).
"""

import math
import weakref

import keras
import numpy as np
import tensorflow as tf

HEALTH_NAMES = (
    "reference_l1_ratio",
    "sampled_mass_ratio",
    "reference_mass_ratio",
    "e_norm",
    "e_prior_norm",
    "z_norm",
    "z_prior_norm",
    "reference_target_norm",
)
BATCH_SIZE = 256
_COMPILED = weakref.WeakKeyDictionary()  # model -> its compiled encoders and generator, traced once


def prior_norm(dim):
    """E||x|| for x ~ N(0, I_dim): sqrt(2) Gamma((dim + 1) / 2) / Gamma(dim / 2).

    Example:
    >>> round(prior_norm(1), 4)  # E|x| = sqrt(2 / pi)
    0.7979
    """
    return math.sqrt(2.0) * math.exp(math.lgamma((dim + 1) / 2) - math.lgamma(dim / 2))


def _mass(images):
    return float(np.mean((np.asarray(images, np.float32) + 1.0) / 2.0))


def _batched(function, *arrays, batch_size=BATCH_SIZE):
    return np.concatenate(
        [np.asarray(function(*(a[i : i + batch_size] for a in arrays))) for i in range(0, len(arrays[0]), batch_size)]
    )


def _compiled(model):
    """The model's z and e encoders (posterior means) and generator as tf.functions with fixed signatures.

    Built once per model: `fit` calls `branch_health` every epoch, and a new tf.function per call
    would retrace each time (and make TensorFlow warn about it from the sixth epoch on).
    """
    if model not in _COMPILED:
        image = tf.TensorSpec([None, model.image_size, model.image_size, 3], tf.float32)
        z_spec = tf.TensorSpec([None, model.common_dim], tf.float32)
        e_spec = tf.TensorSpec([None, model.target_dim], tf.float32)
        # The functions hold the sub-networks, not the model, so that the entry goes with the model.
        common_encoder, target_encoder, generator = model.common_encoder, model.target_encoder, model.generator
        _COMPILED[model] = (
            tf.function(lambda x: common_encoder(x, training=False)[0], input_signature=[image]),
            tf.function(lambda x: target_encoder(x, training=False)[0], input_signature=[image]),
            tf.function(lambda z, e: generator([z, e], training=False), input_signature=[z_spec, e_spec]),
        )
    return _COMPILED[model]


def branch_health(model, unlabelled, reference, seed=0):
    """The health numbers of a reference-based model (see the module docstring).

    Args:
        model: a reference-based `LatentModel` (Rb-VAE or sRb-VAE).
        unlabelled: float32 (N, S, S, 3) images in [-1, 1].
        reference: float32 (M, S, S, 3) reference images in [-1, 1].
        seed: int. Seed of the sampled e. Defaults to 0.

    Returns:
        dict name -> float, the keys of `HEALTH_NAMES`.
    """
    unlabelled = np.asarray(unlabelled, np.float32)
    reference = np.asarray(reference, np.float32)
    encode_z, encode_e, generate = _compiled(model)
    z = _batched(encode_z, unlabelled)
    e = _batched(encode_e, unlabelled)
    z_ref = _batched(encode_z, reference)
    e_r = np.asarray(keras.ops.convert_to_numpy(model.reference_target), np.float32)
    rng = np.random.default_rng(seed)
    e_sampled = rng.standard_normal(e.shape).astype(np.float32)
    reference_fit = _batched(generate, z_ref, np.tile(e_r, (len(z_ref), 1)))
    sampled = _batched(generate, z, e_sampled)
    reference_versions = _batched(generate, z, np.tile(e_r, (len(z), 1)))
    black_l1 = float(np.mean(np.abs(reference + 1.0)))
    return {
        "reference_l1_ratio": float(np.mean(np.abs(reference - reference_fit))) / max(black_l1, 1e-12),
        "sampled_mass_ratio": _mass(sampled) / max(_mass(unlabelled), 1e-12),
        "reference_mass_ratio": _mass(reference_versions) / max(_mass(reference), 1e-12),
        "e_norm": float(np.mean(np.linalg.norm(e, axis=1))),
        "e_prior_norm": prior_norm(model.target_dim),
        "z_norm": float(np.mean(np.linalg.norm(z, axis=1))),
        "z_prior_norm": prior_norm(model.common_dim),
        "reference_target_norm": float(np.linalg.norm(e_r)),
    }


def discriminator_accuracies(history_rows):
    """`{name: value}` of the `*_acc_real` / `*_acc_fake` columns of the last history.csv row ({} if none)."""
    if not history_rows:
        return {}
    return {name: float(value) for name, value in history_rows[-1].items() if "_acc_" in name and value != ""}

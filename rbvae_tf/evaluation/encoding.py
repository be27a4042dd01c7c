"""Images -> posterior means (and samples) by feature set; the untrained copy of a model."""

import contextlib
import random

import numpy as np
import tensorflow as tf

from rbvae_tf.batching import BATCH_SIZE, as_float, in_batches
from rbvae_tf.models import MODELS


def model_kind(model):
    """The CLI name of a model (`"srbvae"`, `"dip-vae-ii"`, ...), or its class name if not in the zoo."""
    for name, (cls, fixed) in MODELS.items():
        if type(model) is cls and all(getattr(model, key, None) == value for key, value in fixed.items()):
            return name
    return type(model).__name__


def feature_names(model):
    """`("e", "z", "all")` for reference-based models, `("all",)` for unsupervised ones."""
    return ("e", "z", "all") if model.reference_based else ("all",)


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
    means, log_vars = in_batches(lambda chunk: encode_posterior(as_float(chunk)), images, batch_size=batch_size)
    means = means.astype(np.float32)
    features = {"all": means}
    if sample_seed is not None:
        log_vars = log_vars.astype(np.float32)
        noise = np.random.default_rng(sample_seed).standard_normal(means.shape).astype(np.float32)
        features["all_sampled"] = means + np.exp(0.5 * log_vars) * noise
    if not model.reference_based:
        return features
    if target_only:
        return {name.replace("all", "e"): value for name, value in features.items()}
    split = {}
    for name, value in features.items():
        suffix = name[3:]  # "" or "_sampled"
        split.update(
            {f"e{suffix}": value[:, : model.target_dim], f"z{suffix}": value[:, model.target_dim :], name: value}
        )
    return split


@contextlib.contextmanager
def python_random_seeded(seed):
    """Seeds Python's `random` inside the block and puts its previous state back afterwards."""
    state = random.getstate()
    random.seed(seed)
    try:
        yield
    finally:
        random.setstate(state)


def untrained_copy(model, seed=0):
    """The same architecture and config as `model` with a fresh random initialisation, the same for
    the same seed, leaving every global random stream (Python, NumPy, TensorFlow, Keras) as it was.

    Keras draws the seed of each unseeded initializer (and dropout seed generator) from Python's
    `random` (`keras.random.make_default_seed`); the initial values then come from stateless ops.
    So seeding Python's `random` for the construction alone fixes every weight: the copy equals the
    one made after `keras.utils.set_random_seed(seed)`, without reseeding anything else.
    """
    with python_random_seeded(seed):
        return type(model).from_config(model.get_config())

"""Run as a subprocess: one step of each named model on 1 replica vs 2 logical-CPU replicas, same global batch.

    python -m tests.models.replica_step vae dip-vae-i srbvae   # default: all seven models

Prints, per model, one JSON line with the max abs difference of all weights (both players, e_r, both
optimizers' slots) after the step. Dropout is off; the sampling noise is replica-split invariant by
design, and batch statistics (DIP-VAE's covariance) are computed on the gathered global batch.
"""

import json
import sys
import time

import tensorflow as tf

cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)

import keras  # noqa: E402
import numpy as np  # noqa: E402

from rbvae_tf.models import MODELS, build_model  # noqa: E402
from rbvae_tf.models.adversarial_base import AdversarialBase  # noqa: E402
from rbvae_tf.models.base import PAPER_ADAM  # noqa: E402

TINY = dict(image_size=16, width=0.125, target_dim=4, common_dim=4, seed=5)


# sRb-VAE with the bounded game and the gradient clips on (the clips sum the gradients over the replicas)
VARIANTS = {
    "srbvae-bounded": (
        "srbvae",
        dict(
            adversarial_bound=10.0,
            gradient_clip=1000.0,
            discriminator_gradient_clip=0.1,
        ),
    )
}


def model_of(name):
    return VARIANTS.get(name, (name, {}))[0]


def config_of(name):
    base, extra = VARIANTS.get(name, (name, {}))
    return {**TINY, "discriminator_dropout": 0.0, **extra} if base in ("svae", "srbvae") else TINY


def one_step(name, strategy, weights):
    with strategy.scope():
        model = build_model(model_of(name), **config_of(name))
        model.set_weights(weights)
        # The paper's Adam with epsilon 1.0 instead of 1e-8. Adam's first step moves a weight by
        # lr * g / (|g| + epsilon): with 1e-8 that is lr * sign(g), so a gradient element that is ~0 and whose
        # float32 round-off (up to ~1e-2 absolute: the Laplace NLL's gradients reach 1e4) has another sign in
        # the other summation order moved by +lr in one run and -lr in the other (seen once: rbvae, 2e-4).
        # With 1.0 such an element moves by at most lr * 1e-2, while the large gradients still move by ~lr;
        # the gradients themselves are compared through Adam's moments (`max_optimizer_relative_diff`).
        adam = {**PAPER_ADAM, "epsilon": 1.0}
        optimizers = {"optimizer": keras.optimizers.Adam(**adam)}
        if isinstance(model, AdversarialBase):
            optimizers["discriminator_optimizer"] = keras.optimizers.Adam(**adam)
        model.compile(jit_compile=False, **optimizers)
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (8, 16, 16, 3)).astype(np.float32)
    xr = rng.uniform(-1, 1, (8, 16, 16, 3)).astype(np.float32)
    dataset = tf.data.Dataset.from_tensors((x, xr))
    logs = model.fit(dataset, epochs=1, steps_per_epoch=1, verbose=0, shuffle=False).history
    slots = list(model.optimizer.variables)
    if hasattr(model, "discriminator_optimizer"):
        slots += list(model.discriminator_optimizer.variables)
    return (
        [np.asarray(v) for v in model.weights],
        [np.asarray(v) for v in slots],
        {k: v[0] for k, v in logs.items()},
        strategy.num_replicas_in_sync,
    )


def relative(a, b):
    return float(np.abs(a - b).max() / max(1.0, float(np.abs(b).max())))


def compare(name, one, two):
    initial = build_model(model_of(name), **config_of(name)).get_weights()
    weights1, slots1, logs1, n1 = one_step(name, one, initial)
    weights2, slots2, logs2, n2 = one_step(name, two, initial)
    return {
        "model": name,
        "replicas": [n1, n2],
        "max_weight_diff": max(float(np.abs(a - b).max()) for a, b in zip(weights1, weights2)),
        # Adam moments hold gradients of size ~1e4 (the Laplace NLL is ||x - G||_1 / 0.01): compare relatively
        "max_optimizer_relative_diff": max(relative(a, b) for a, b in zip(slots1, slots2)),
        "max_update": max(float(np.abs(a - b).max()) for a, b in zip(weights1, initial)),
        "loss": [logs1["loss"], logs2["loss"]],
        "terms": {key: [logs1[key], logs2[key]] for key in logs1},
    }


ONE, TWO = tf.distribute.OneDeviceStrategy("/cpu:0"), tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
for model_name in sys.argv[1:] or list(MODELS):
    start = time.perf_counter()
    result = compare(model_name, ONE, TWO)
    print(json.dumps({**result, "seconds": round(time.perf_counter() - start, 1)}), flush=True)

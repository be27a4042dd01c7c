"""StepAdam, the paper's Adam with the step's scalars computed once per update: bit for bit Keras' Adam, in fewer
ops, on its own and inside the tiny sRb-VAE's training step (fixed seed and batch)."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from rbvae_tf.models import PAPER_ADAM, build_model
from rbvae_tf.models.base import StepAdam


def updated(optimizer_class, schedule=False):
    """Three Adam updates of three variables (two shapes, fixed gradients) inside one tf.function."""
    rng = np.random.default_rng(0)
    variables = [keras.Variable(rng.normal(size=shape).astype(np.float32)) for shape in ((3, 4), (5,), (2, 2, 2))]
    rate = keras.optimizers.schedules.CosineDecay(3e-4, decay_steps=5) if schedule else 3e-4
    optimizer = optimizer_class(**{**PAPER_ADAM, "learning_rate": rate})
    optimizer.build(variables)
    grads = [[tf.constant(rng.normal(size=v.shape).astype(np.float32)) for v in variables] for _ in range(3)]

    @tf.function
    def apply(g):
        optimizer.apply(g, variables)

    for g in grads:
        apply(g)
    return [v.numpy() for v in variables + optimizer.variables], optimizer


@pytest.mark.parametrize("schedule", [False, True])
def test_the_updates_are_keras_adams_bit_for_bit(schedule):
    ours, optimizer = updated(StepAdam, schedule)
    keras_adam, _ = updated(keras.optimizers.Adam, schedule)
    assert len(ours) == len(keras_adam) and all(np.array_equal(a, b) for a, b in zip(ours, keras_adam))
    assert int(optimizer.iterations.numpy()) == 3
    if not schedule:  # (a schedule's config comes back from from_config as the schedule object)
        config = optimizer.get_config()
        assert StepAdam.from_config(config).get_config() == config
    assert keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(optimizer)).__class__ is StepAdam


def step_ops(optimizer_class):
    """The number of ops of one traced update of the three variables."""
    variables = [keras.Variable(np.ones(shape, np.float32)) for shape in ((3, 4), (5,), (2, 2, 2))]
    optimizer = optimizer_class(**PAPER_ADAM)
    optimizer.build(variables)
    apply = tf.function(lambda g: optimizer.apply(g, variables))
    graph = apply.get_concrete_function([tf.TensorSpec(v.shape) for v in variables]).graph
    return len(graph.get_operations())


def test_the_step_scalars_are_computed_once():
    assert step_ops(StepAdam) < step_ops(keras.optimizers.Adam) - 2 * 8  # >= 8 scalar ops fewer per variable after one


def trained(optimizer_class, steps=3):
    """Losses and weights of the tiny sRb-VAE after `steps` training steps on one fixed batch."""
    keras.utils.set_random_seed(0)
    model = build_model("srbvae", image_size=16, width=0.125, target_dim=8, common_dim=8)
    model.compile(
        optimizer=optimizer_class(**PAPER_ADAM),
        discriminator_optimizer=optimizer_class(**PAPER_ADAM),
        jit_compile=False,
    )
    rng = np.random.default_rng(0)
    batch = tuple(tf.constant(rng.uniform(-1, 1, (8, 16, 16, 3)).astype(np.float32)) for _ in range(2))
    history = model.fit(tf.data.Dataset.from_tensors(batch).repeat(), epochs=1, steps_per_epoch=steps, verbose=0)
    return history.history, [w.numpy() for w in model.weights]


def test_the_srbvae_step_computes_the_same_numbers():
    (history, weights), (keras_history, keras_weights) = trained(StepAdam), trained(keras.optimizers.Adam)
    assert history == keras_history
    assert len(weights) == len(keras_weights) and all(np.array_equal(a, b) for a, b in zip(weights, keras_weights))

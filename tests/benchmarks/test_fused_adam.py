"""benchmarks/fused_adam.py's FusedStepAdam (one ResourceApplyAdam kernel per variable): Keras' Adam bit for bit
where `1 - beta_2` is exact in float32, within float32 rounding of it with the paper's beta_2 = 0.99; one kernel
per variable in the traced update; AMSGrad takes Keras' path."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from benchmarks.fused_adam import FusedStepAdam
from rbvae_tf.models import PAPER_ADAM
from rbvae_tf.models.base import StepAdam

# 1 - beta_2 is exact in float32, where ResourceApplyAdam computes it (Keras rounds Python's 1 - beta_2 instead)
EXACT_BETA_2 = 0.875
SHAPES = ((3, 4), (5,), (2, 2, 2))


def updated(optimizer_class, schedule=False, **options):
    """The three variables, m and v after three Adam updates (fixed gradients) inside one tf.function."""
    rng = np.random.default_rng(0)
    variables = [keras.Variable(rng.normal(size=shape).astype(np.float32)) for shape in SHAPES]
    rate = keras.optimizers.schedules.CosineDecay(3e-4, decay_steps=5) if schedule else 3e-4
    optimizer = optimizer_class(**{**PAPER_ADAM, "learning_rate": rate, **options})
    optimizer.build(variables)
    grads = [[tf.constant(rng.normal(size=v.shape).astype(np.float32)) for v in variables] for _ in range(3)]

    @tf.function
    def apply(g):
        optimizer.apply(g, variables)

    for g in grads:
        apply(g)
    assert int(optimizer.iterations.numpy()) == 3
    return [[np.asarray(x) for x in group] for group in (variables, optimizer._momentums, optimizer._velocities)]


def equal(a, b):
    return len(a) == len(b) and all(np.array_equal(x, y) for x, y in zip(a, b))


@pytest.mark.parametrize("schedule", [False, True])
def test_the_updates_are_keras_adams_bit_for_bit_where_one_minus_beta_2_is_exact(schedule):
    ours = updated(FusedStepAdam, schedule, beta_2=EXACT_BETA_2)
    theirs = updated(keras.optimizers.Adam, schedule, beta_2=EXACT_BETA_2)
    assert all(equal(a, b) for a, b in zip(ours, theirs))
    assert not equal(ours[0], updated(FusedStepAdam, schedule, beta_2=EXACT_BETA_2, learning_rate=1e-3)[0])


def test_the_updates_with_the_paper_betas_are_keras_adams_within_float32_rounding():
    # The kernel's 1 - beta_2 is float32(1) - float32(0.99) = 0.0099999905, Keras' float32(1 - 0.99) = 0.0099999998
    # (9.3e-7 relative): v drifts by ~1e-6 relative, the variables by about an ulp. m is exact (1 - 0.5 is).
    (weights, m, v), (keras_weights, keras_m, keras_v) = updated(FusedStepAdam), updated(keras.optimizers.Adam)
    assert equal(m, keras_m)
    for a, b in zip(v, keras_v):
        np.testing.assert_allclose(a, b, rtol=3e-6, atol=0)
    assert not equal(v, keras_v)  # the fused kernel really ran
    for a, b in zip(weights, keras_weights):
        np.testing.assert_allclose(a, b, rtol=2.5e-7, atol=1e-9)
    assert not equal(weights, [np.asarray(x) for x in updated(FusedStepAdam, learning_rate=0.0)[0]])  # they moved


def op_types(optimizer_class):
    """The op types of one traced update of the three variables."""
    variables = [keras.Variable(np.ones(shape, np.float32)) for shape in SHAPES]
    optimizer = optimizer_class(**PAPER_ADAM)
    optimizer.build(variables)
    apply = tf.function(lambda g: optimizer.apply(g, variables))
    return [
        op.type
        for op in apply.get_concrete_function([tf.TensorSpec(v.shape) for v in variables]).graph.get_operations()
    ]


def test_the_update_is_one_kernel_per_variable():
    fused, step = op_types(FusedStepAdam), op_types(StepAdam)
    assert fused.count("ResourceApplyAdam") == len(SHAPES) and "ResourceApplyAdam" not in step
    assert not {"AssignAddVariableOp", "AssignSubVariableOp"} & set(fused)  # m, v and the variable in the kernel
    assert len(fused) < len(step) - len(SHAPES) * 12  # >= 12 ops fewer per variable


def test_amsgrad_takes_keras_path_bit_for_bit():
    ours, theirs = updated(FusedStepAdam, amsgrad=True), updated(keras.optimizers.Adam, amsgrad=True)
    assert all(equal(a, b) for a, b in zip(ours, theirs))


def test_the_config_round_trips():
    optimizer = FusedStepAdam(**PAPER_ADAM)
    config = optimizer.get_config()
    step_config = StepAdam(**PAPER_ADAM).get_config()
    assert {**config, "name": None} == {**step_config, "name": None}  # the library's Adam's config, the name aside
    assert config["name"].startswith("fused_step_adam") and config["beta_2"] == 0.99
    assert type(FusedStepAdam.from_config(config)) is FusedStepAdam
    restored = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(optimizer))
    assert type(restored) is FusedStepAdam and restored.get_config() == config

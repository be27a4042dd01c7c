"""StepAdam, the paper's Adam with the step's scalars computed once per update: bit for bit Keras' Adam, in fewer
ops, on its own and inside the tiny sRb-VAE's training step (fixed seed and batch). Its fused update (one
ResourceApplyAdam kernel per variable) is Keras' bit for bit where `1 - beta_2` is exact in float32, and within
float32 rounding of it with the paper's beta_2 = 0.99."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from rbvae_tf import runtime
from rbvae_tf.models import PAPER_ADAM, build_model
from rbvae_tf.models.base import StepAdam

# 1 - beta_2 is exact in float32, where ResourceApplyAdam computes it (Keras rounds Python's 1 - beta_2 instead)
EXACT_BETA_2 = 0.875


def updated(optimizer_class, schedule=False, **options):
    """Three Adam updates of three variables (two shapes, fixed gradients) inside one tf.function."""
    rng = np.random.default_rng(0)
    variables = [keras.Variable(rng.normal(size=shape).astype(np.float32)) for shape in ((3, 4), (5,), (2, 2, 2))]
    rate = keras.optimizers.schedules.CosineDecay(3e-4, decay_steps=5) if schedule else 3e-4
    optimizer = optimizer_class(**{**PAPER_ADAM, "learning_rate": rate, **options})
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


def step_op_types(optimizer_class, **options):
    """The op types of one traced update of the three variables."""
    variables = [keras.Variable(np.ones(shape, np.float32)) for shape in ((3, 4), (5,), (2, 2, 2))]
    optimizer = optimizer_class(**{**PAPER_ADAM, **options})
    optimizer.build(variables)
    apply = tf.function(lambda g: optimizer.apply(g, variables))
    graph = apply.get_concrete_function([tf.TensorSpec(v.shape) for v in variables]).graph
    return [op.type for op in graph.get_operations()]


def step_ops(optimizer_class, **options):
    """The number of ops of one traced update of the three variables."""
    return len(step_op_types(optimizer_class, **options))


def test_the_step_scalars_are_computed_once():
    assert step_ops(StepAdam) < step_ops(keras.optimizers.Adam) - 2 * 8  # >= 8 scalar ops fewer per variable after one


def trained(optimizer_class, steps=3, **options):
    """Losses and weights of the tiny sRb-VAE after `steps` training steps on one fixed batch."""
    keras.utils.set_random_seed(0)
    model = build_model("srbvae", image_size=16, width=0.125, target_dim=8, common_dim=8)
    model.compile(
        optimizer=optimizer_class(**{**PAPER_ADAM, **options}),
        discriminator_optimizer=optimizer_class(**{**PAPER_ADAM, **options}),
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


def slots_of(values, optimizer):
    """The three variables, Adam's m and Adam's v after `updated`."""
    m, v = ([np.asarray(x) for x in slots] for slots in (optimizer._momentums, optimizer._velocities))
    return values[:3], m, v


@pytest.mark.parametrize("schedule", [False, True])
def test_the_fused_updates_are_keras_adams_bit_for_bit_where_one_minus_beta_2_is_exact(schedule):
    ours, optimizer = updated(StepAdam, schedule, beta_2=EXACT_BETA_2, fused=True)
    keras_adam, _ = updated(keras.optimizers.Adam, schedule, beta_2=EXACT_BETA_2)
    assert len(ours) == len(keras_adam) and all(np.array_equal(a, b) for a, b in zip(ours, keras_adam))
    assert int(optimizer.iterations.numpy()) == 3


def test_the_fused_updates_with_the_paper_betas_are_keras_adams_within_float32_rounding():
    # The kernel's 1 - beta_2 is float32(1) - float32(0.99) = 0.0099999905, Keras' float32(1 - 0.99) = 0.0099999998
    # (9.3e-7 relative): v drifts by ~1e-6 relative (measured over 5 updates of 6 shapes with gradients from 1e-4
    # to 1e4: 1.19e-6, 18 ulps), the update by half that, and the variables round to the neighbouring float32
    # (measured: 1 ulp, 2.4e-7 absolute for values in [2, 4)). m is exact (1 - 0.5 is).
    values, optimizer = updated(StepAdam, fused=True)
    keras_values, keras_optimizer = updated(keras.optimizers.Adam)
    weights, m, v = slots_of(values, optimizer)
    keras_weights, keras_m, keras_v = slots_of(keras_values, keras_optimizer)
    assert all(np.array_equal(a, b) for a, b in zip(m, keras_m))
    for a, b in zip(v, keras_v):
        np.testing.assert_allclose(a, b, rtol=3e-6, atol=0)
    assert not all(np.array_equal(a, b) for a, b in zip(v, keras_v))  # the fused kernel really ran
    for a, b in zip(weights, keras_weights):  # 2 ulps, and ~1e-6 of the three updates of <= ~lr each near 0
        np.testing.assert_allclose(a, b, rtol=2.5e-7, atol=1e-9)


def test_the_fused_update_is_one_kernel_per_variable():
    types = step_op_types(StepAdam, fused=True)
    assert types.count("ResourceApplyAdam") == 3 and "ResourceApplyAdam" not in step_op_types(StepAdam)
    assert not {"AssignAddVariableOp", "AssignSubVariableOp"} & set(types)  # m, v and the variable in the kernel
    assert step_ops(StepAdam, fused=True) < step_ops(StepAdam) - 3 * 12  # >= 12 ops fewer per variable


def test_amsgrad_with_fused_takes_keras_path_bit_for_bit():
    ours, _ = updated(StepAdam, amsgrad=True, fused=True)
    keras_adam, _ = updated(keras.optimizers.Adam, amsgrad=True)
    assert len(ours) == len(keras_adam) and all(np.array_equal(a, b) for a, b in zip(ours, keras_adam))


def test_fused_round_trips_through_the_config():
    optimizer = StepAdam(**PAPER_ADAM, fused=True)
    config = optimizer.get_config()
    assert config["fused"] is True and StepAdam(**PAPER_ADAM).get_config()["fused"] is False
    assert StepAdam.from_config(config).get_config() == config
    restored = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(optimizer))
    assert restored.__class__ is StepAdam and restored.fused is True


def test_the_fused_srbvae_step_is_keras_adams_bit_for_bit_where_one_minus_beta_2_is_exact():
    history, weights = trained(StepAdam, fused=True, beta_2=EXACT_BETA_2)
    keras_history, keras_weights = trained(keras.optimizers.Adam, beta_2=EXACT_BETA_2)
    assert history == keras_history
    assert len(weights) == len(keras_weights) and all(np.array_equal(a, b) for a, b in zip(weights, keras_weights))


def test_the_fused_srbvae_step_with_the_paper_betas_is_step_adams_within_float32_rounding():
    # measured (3 steps, this seed and batch): weights 8e-8 apart, logged terms 1.6e-7 relative. A wrong learning
    # rate in the kernel (e.g. bias-corrected twice: x0.2 at step 1) moves the weights ~8e-5 apart.
    (history, weights), (step_history, step_weights) = trained(StepAdam, fused=True), trained(StepAdam)
    assert sorted(history) == sorted(step_history)
    for key, values in history.items():
        np.testing.assert_allclose(values, step_history[key], rtol=1e-5, atol=1e-5, err_msg=key)
    assert len(weights) == len(step_weights)
    for a, b in zip(weights, step_weights):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-6)


@pytest.mark.skipif(not runtime.has_bf16(), reason="this CPU has neither AVX512_BF16 nor AMX")
def test_the_fused_bf16_srbvae_step_is_step_adams_bit_for_bit_where_one_minus_beta_2_is_exact():
    """bf16 mixed precision (convolutions in bfloat16, variables and updates fp32): the kernel's float32 variables."""
    try:
        runtime.set_precision("bf16")
        history, weights = trained(StepAdam, fused=True, beta_2=EXACT_BETA_2)
        step_history, step_weights = trained(StepAdam, beta_2=EXACT_BETA_2)
    finally:
        runtime.set_precision(None)
    assert all(w.dtype == np.float32 for w in weights)
    assert history == step_history
    assert len(weights) == len(step_weights) and all(np.array_equal(a, b) for a, b in zip(weights, step_weights))

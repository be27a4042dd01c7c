"""The R1 penalty (`weight_r1`): its value against a per-row reference, and the discriminator player's step
against the plain gradient of (Eq. 9 loss + gamma / 2 * R1) taken by two nested tapes."""

import keras
import numpy as np
import pytest
import tensorflow as tf
from keras import ops

from rbvae_tf import losses
from rbvae_tf.models import build_model

BATCH, GAMMA, LR = 4, 3.0, 1e4
# no dropout, so that the reference passes see the step's discriminators exactly
TINY = dict(image_size=16, width=0.125, target_dim=2, common_dim=3, seed=5, discriminator_dropout=0.0)


@pytest.fixture(scope="module", params=["srbvae", "svae"])
def model_and_batch(request):
    model = build_model(request.param, weight_r1=GAMMA, **TINY)
    # SGD for d: its update is minus LR times the gradient (LR large, so that the float32 difference of
    # the weights before and after resolves the gradient); the model player does not move
    model.compile(
        jit_compile=False, optimizer=keras.optimizers.SGD(0.0), discriminator_optimizer=keras.optimizers.SGD(LR)
    )
    rng = np.random.default_rng(0)
    x, x_reference = (tf.constant(rng.uniform(-1, 1, (BATCH, 16, 16, 3)).astype(np.float32)) for _ in range(2))
    return model, x, x_reference


def squared_gradient_norm(discriminator, inputs, row):
    """|grad d|^2 at the inputs of one row, that row alone through d."""
    single = [tf.Variable(t[row : row + 1]) for t in inputs]
    with tf.GradientTape() as tape:
        logit = ops.sum(discriminator([v for v in single], training=True))
    return sum(float(ops.sum(ops.square(g))) for g in tape.gradient(logit, single))


def test_r1_is_the_mean_squared_gradient_norm_at_the_real_rows(model_and_batch):
    model, x, x_reference = model_and_batch
    model.start_step()
    pairs, _ = model.adversarial_terms(x, x_reference)
    for name, call in pairs.items():
        rows = call.logits.shape[0] // 2
        expected = np.mean([squared_gradient_norm(getattr(model, name), call.inputs, i) for i in range(rows)])
        assert expected > 0
        np.testing.assert_allclose(float(call.r1), expected, rtol=1e-4, err_msg=name)


def test_the_discriminator_step_descends_the_loss_plus_half_gamma_r1(model_and_batch):
    model, x, x_reference = model_and_batch
    variables = model.discriminator_variables
    before = [np.array(v) for v in variables]
    model.start_step()  # the noise of step 0, which the train step below draws again
    with tf.GradientTape(persistent=True) as tape:
        pairs, _ = model.adversarial_terms(x, x_reference)
        loss = sum(ops.mean(losses.discriminator_loss(r, f)) for r, f in pairs.values())
        penalty = 0.5 * GAMMA * sum(call.r1 for call in pairs.values())
        total = loss + penalty
    expected = tape.gradient(total, variables)
    penalty_only = tape.gradient(penalty, variables)
    # the penalty moves the latent branches' layers by a large share of the step: a step without it fails
    assert max(float(np.abs(p).max() / np.abs(g).max()) for p, g in zip(penalty_only, expected) if p is not None) > 0.1
    logs = model.train_step((x, x_reference))
    assert all(f"{name}_r1" in logs for name in model.discriminator_names)
    assert float(penalty) > 1e-3 * float(loss)  # the penalty counts in this step
    for old, variable, grad in zip(before, variables, expected):
        step = (old - np.array(variable)) / LR
        scale = float(np.abs(grad).max())
        assert scale > 0, variable.path
        np.testing.assert_allclose(step / scale, np.array(grad) / scale, atol=1e-4, err_msg=variable.path)

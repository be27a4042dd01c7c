"""sRb-VAE's bounded game beyond the paper: the bounded Eq. 8 logit, spectral norm, gradient clipping.

The bounded terms are rebuilt here from hand-made logits, independently of `AdversarialBase.player_losses`,
so these tests fail if the bound reaches Eq. 9 or leaves Eq. 8 unbounded.
"""

import math

import keras
import numpy as np
import pytest
import tensorflow as tf

from rbvae_tf.models import build_model
from rbvae_tf.models.adversarial_base import AdversarialBase, DiscriminatorCall

BATCH = 6
TINY = dict(image_size=16, width=0.125, target_dim=2, common_dim=3, seed=5, discriminator_dropout=0.0)
# every Eq. 10 and beyond-the-paper term of the recipe off, so that one lever's term is the model's whole loss
SILENT = dict(
    weight_image=0.0,
    weight_reference_image=0.0,
    weight_latent_z=0.0,
    weight_latent_e=0.0,
    weight_latent_reference=0.0,
    weight_adversarial=0.0,
)


def batch(seed=0):
    rng = np.random.default_rng(seed)
    return tuple(tf.constant(rng.uniform(-1, 1, (BATCH, 16, 16, 3)).astype(np.float32)) for _ in range(2))


def compiled(**kwargs):
    keras.utils.set_random_seed(0)
    model = build_model("srbvae", **{**TINY, **kwargs})
    model.compile(jit_compile=False)
    return model


def player_gradients(model, x, x_reference):
    """(model player's gradients, discriminator player's) of `player_losses` from one forward pass (two backwards)."""
    model.start_step()
    with tf.GradientTape(persistent=True) as tape:
        logs, pairs = model.objective(x, x_reference)
        model_loss, _, discriminator_loss = model.player_losses(logs, pairs)

    return (
        tape.gradient(model_loss, model.model_variables),
        tape.gradient(discriminator_loss, model.discriminator_variables),
        logs,
    )


def assert_close(got, want, variables):
    """Equal up to float32 rounding (1e-4 of each variable's largest gradient: batches are concatenated in
    one order here and another in the model); a flipped sign or a leaking target is off by O(1)."""
    for g, w, v in zip(got, want, variables):
        if w is None:
            assert g is None or float(tf.reduce_max(tf.abs(g))) == 0.0, v.path
            continue
        scale = max(float(tf.reduce_max(tf.abs(w))), 1e-12)
        np.testing.assert_allclose(np.asarray(g) / scale, np.asarray(w) / scale, atol=1e-4, err_msg=v.path)


def constructed_pairs(scale):
    """Two "gap" pairs with hand-made logits, as `objective` returns them."""
    real = tf.constant([[1.0], [3.0]]) * scale
    fake = tf.constant([[-2.0], [0.0]]) * scale
    return {
        "discriminator": DiscriminatorCall([tf.zeros((4, 1))], tf.concat([real, fake], 0)),
        "reference_discriminator": DiscriminatorCall([tf.zeros((4, 1))], tf.concat([fake, real], 0)),
    }


def test_the_bounded_game_bounds_eq8_only_and_keeps_the_raw_logits_in_eq9():
    bounded = build_model("srbvae", adversarial_bound=10.0, **TINY)
    plain = build_model("srbvae", **TINY)
    for scale in (1.0, 1e4):
        pairs = constructed_pairs(scale)
        b_logs, p_logs = bounded.game_terms(pairs), plain.game_terms(pairs)
        b_model, _, b_disc = bounded.player_losses(b_logs, pairs)
        p_model, _, p_disc = plain.player_losses(p_logs, pairs)
        # the raw gap: E real - E fake of d, then of d' (rows swapped): (2 - -1) + (-1 - 2) = 0 at any scale
        raw_d = float(np.mean([1, 3]) - np.mean([-2, 0])) * scale
        assert float(b_logs["adversarial"]) == pytest.approx(raw_d - raw_d, abs=1e-3)
        assert float(p_disc) == pytest.approx(float(b_disc))  # Eq. 9 on the raw logits
    pairs = {"discriminator": constructed_pairs(1e4)["discriminator"]}
    b_logs = bounded.game_terms(pairs)
    b_model, _, _ = bounded.player_losses(b_logs, pairs)
    p_model, _, _ = plain.player_losses(plain.game_terms(pairs), pairs)
    assert float(p_model) == pytest.approx(3e4)  # the paper's term grows with the logits
    assert float(b_model) == pytest.approx(10.0 * (np.mean(np.tanh([1e3, 3e3])) - np.mean(np.tanh([-2e3, 0.0]))))
    assert abs(float(b_model)) <= 20.0  # each logit capped at 10 nats
    assert float(b_logs["adversarial_bounded"]) == pytest.approx(float(b_model))


def test_gradient_clip_caps_the_global_norm_and_keeps_the_direction():
    grads = [tf.constant([3.0, 0.0]), None, tf.constant([[4.0]])]  # global norm 5
    clipped, norm = AdversarialBase.clip(grads, 1.0)
    assert clipped[1] is None and float(norm) == pytest.approx(5.0)
    np.testing.assert_allclose(clipped[0], [0.6, 0.0], rtol=1e-6)
    np.testing.assert_allclose(clipped[2], [[0.8]], rtol=1e-6)
    same, _ = AdversarialBase.clip(grads, 10.0)  # under the cap: unchanged
    np.testing.assert_allclose(same[0], [3.0, 0.0])
    unclipped, norm = AdversarialBase.clip(grads, 0.0)
    assert unclipped is grads and float(norm) == pytest.approx(5.0)


def test_a_clipped_step_moves_each_player_by_its_clipped_gradient():
    """With SGD, the update of each player is lr times its gradient clipped to the player's own norm."""
    model = build_model("srbvae", gradient_clip=1.0, discriminator_gradient_clip=0.5, **TINY)
    model.compile(
        optimizer=keras.optimizers.SGD(1.0), discriminator_optimizer=keras.optimizers.SGD(1.0), jit_compile=False
    )
    x, x_reference = batch(6)
    before = [np.asarray(v) for v in model.model_variables], [np.asarray(v) for v in model.discriminator_variables]
    logs = model.train_step((x, x_reference))
    assert float(logs["model_grad_norm"]) > 1.0 and float(logs["discriminator_grad_norm"]) > 0.5  # the clip acted
    for variables, old, cap in (
        (model.model_variables, before[0], 1.0),
        (model.discriminator_variables, before[1], 0.5),
    ):
        moved = math.sqrt(sum(float(np.sum(np.square(np.asarray(v) - o))) for v, o in zip(variables, old)))
        assert moved == pytest.approx(cap, rel=1e-3)


def test_spectral_norm_keeps_each_discriminator_layer_near_one():
    model = compiled(spectral_norm=True)
    x, x_reference = batch(7)
    step = tf.function(model.train_step)
    for _ in range(30):  # one power iteration per step: the estimate of sigma converges over steps
        step((x, x_reference))
    wrapped = [
        layer
        for d in model.discriminators
        for layer in d.layers
        if isinstance(layer, keras.layers.SpectralNormalization)
    ]
    assert len(wrapped) >= 3 * 2  # convs and dense layers of each discriminator
    for layer in wrapped:
        kernel = np.asarray(layer.layer.kernel).reshape(-1, layer.layer.kernel.shape[-1])
        sigma = np.linalg.svd(kernel, compute_uv=False)[0]
        assert 0.9 < sigma < 1.1, (layer.name, sigma)
    plain = build_model("srbvae", **TINY)
    assert not any(isinstance(layer, keras.layers.SpectralNormalization) for layer in plain.discriminator.layers)


def test_the_bounded_game_trains_finite_with_both_clips_and_the_fused_backward():
    model = compiled(
        adversarial_bound=10.0,
        spectral_norm=True,
        gradient_clip=1.0,
        discriminator_gradient_clip=0.5,
        fused_backward=True,
    )
    x, x_reference = batch(8)
    logs = model.train_step((x, x_reference))
    for name in (
        "adversarial_bounded",
        "discriminator_loss",
        "reference_discriminator_acc_fake",
        "model_grad_norm",
        "discriminator_grad_norm",
    ):
        assert np.isfinite(float(logs[name])), name
    assert abs(float(logs["adversarial_bounded"])) <= 4 * 10.0  # two pairs, each logit capped at 10 nats

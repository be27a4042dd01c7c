"""sRb-VAE's levers beyond the paper (domain adversary, moments, swap discriminator, latent cycles, ramp) and
the bounded game (bounded Eq. 8 logit, spectral norm, gradient clipping).

Each term is rebuilt here from the networks, independently of `SRbVAE.objective` and
`AdversarialBase.player_losses`, so these tests fail if a term's sign flips, if real and fake rows are
swapped, or if a gradient reaches what should be constant (the swap's real rows, the cycles' targets).
"""

import math

import keras
import numpy as np
import pytest
import tensorflow as tf
from keras import ops

from rbvae_tf import losses
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


def test_the_levers_are_off_by_default_and_build_nothing():
    model = build_model("srbvae", **TINY)
    assert (model.weight_domain, model.weight_moments, model.weight_swap, model.weight_latent_cycle) == (0, 0, 0, 0)
    assert model.discriminator_names == ("discriminator", "reference_discriminator")
    assert not hasattr(model, "domain_discriminator") and not hasattr(model, "swap_discriminator")
    config = model.get_config()
    for key in (
        "weight_domain",
        "weight_swap",
        "weight_moments",
        "weight_latent_cycle",
        "ramp_steps",
        "adversarial_bound",
        "spectral_norm",
        "gradient_clip",
        "discriminator_gradient_clip",
    ):
        assert key not in config  # configs of the paper's objective read as before the levers existed


def test_levers_round_trip_through_the_config_with_unique_weight_paths():
    model = build_model(
        "srbvae",
        weight_domain=2.0,
        weight_swap=3.0,
        weight_moments=4.0,
        weight_latent_cycle=5.0,
        ramp_steps=7,
        adversarial_bound=10.0,
        spectral_norm=True,
        gradient_clip=1e3,
        discriminator_gradient_clip=2.0,
        **TINY,
    )
    assert model.discriminator_names[2:] == ("domain_discriminator", "swap_discriminator")
    assert model.recon_names[-2:] == ("moments", "latent_cycle")
    again = type(model).from_config(model.get_config())
    assert again.get_config() == model.get_config()
    assert len(again.weights) == len(model.weights)
    paths = [w.path for w in model.weights]
    assert len(paths) == len(set(paths))
    assert any(p.startswith("domain_discriminator/") for p in paths)
    assert any(p.startswith("swap_discriminator/") and "_sn/" in p for p in paths)  # spectrally normalised
    # the discriminator player owns the new networks, the model player does not
    player = {id(v) for v in model.discriminator_variables}
    assert all(id(v) in player for v in model.domain_discriminator.trainable_variables)
    assert not any(id(v) in player for v in model.model_variables)


def test_domain_adversary_reference_codes_are_real_and_the_model_confuses():
    model = compiled(**SILENT, weight_domain=3.0)
    x, x_reference = batch()
    model.start_step()
    _, pairs = model.objective(x, x_reference)
    call = pairs["domain_discriminator"]
    assert call.objective == "confusion"
    z_mean, _ = model.common_encoder(x, training=True)
    zr_mean, _ = model.common_encoder(x_reference, training=True)
    np.testing.assert_allclose(call.real, model.domain_discriminator(zr_mean), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(call.fake, model.domain_discriminator(z_mean), rtol=1e-5, atol=1e-6)
    # both players' gradients against the terms written out here
    model_grads, disc_grads, logs = player_gradients(model, x, x_reference)
    with tf.GradientTape(persistent=True) as tape:
        z_mean, _ = model.common_encoder(x, training=True)
        zr_mean, _ = model.common_encoder(x_reference, training=True)
        d_real, d_fake = model.domain_discriminator(zr_mean), model.domain_discriminator(z_mean)
        logits = tf.concat([d_real, d_fake], 0)
        confusion = 3.0 * tf.reduce_mean(0.5 * (tf.nn.softplus(logits) + tf.nn.softplus(-logits)) - math.log(2.0))
        logistic = tf.reduce_mean(tf.nn.softplus(-d_real) + tf.nn.softplus(d_fake))
    assert float(logs["domain"]) * 3.0 == pytest.approx(float(confusion), rel=1e-4)
    assert_close(model_grads, tape.gradient(confusion, model.model_variables), model.model_variables)
    # the discriminator player's loss sums every pair's: the domain network's share is its logistic loss alone
    own = [i for i, v in enumerate(model.discriminator_variables) if v.path.startswith("domain_discriminator/")]
    domain_variables = [model.discriminator_variables[i] for i in own]
    assert_close([disc_grads[i] for i in own], tape.gradient(logistic, domain_variables), domain_variables)


def test_swap_discriminator_reconstructions_are_real_constants_and_transfers_are_fakes():
    model = compiled(**SILENT, weight_swap=2.0)
    x, x_reference = batch(1)
    model.start_step()
    with tf.GradientTape(persistent=True) as tape:
        logs, pairs = model.objective(x, x_reference)
        model_loss, _, discriminator_loss = model.player_losses(logs, pairs)
        call = pairs["swap_discriminator"]
        real_sum, fake_sum = tf.reduce_sum(call.real), tf.reduce_sum(call.fake)
    assert call.objective == "fool"
    # the real rows are reconstructions with their gradient stopped: nothing of the model reaches them
    assert all(
        g is None or float(tf.reduce_max(tf.abs(g))) == 0.0 for g in tape.gradient(real_sum, model.model_variables)
    )
    assert any(
        g is not None and float(tf.reduce_max(tf.abs(g))) > 0 for g in tape.gradient(fake_sum, model.model_variables)
    )
    # the model player's term is -log sigmoid(d(fake)), which a sign flip would turn into log sigmoid
    assert float(logs["swap"]) == pytest.approx(float(tf.reduce_mean(tf.nn.softplus(-call.fake))), rel=1e-5)
    assert float(model_loss) == pytest.approx(2.0 * float(logs["swap"]), rel=1e-5)
    # a step of the model player down its gradient makes the transfers look more real to d_s
    grads = tape.gradient(model_loss, model.model_variables)
    before = float(tf.reduce_mean(call.fake))
    for v, g in zip(model.model_variables, grads):
        if g is not None:
            v.assign_sub(1e-3 * g / (tf.norm(g) + 1e-12))
    model.start_step()
    _, pairs = model.objective(x, x_reference)
    assert float(tf.reduce_mean(pairs["swap_discriminator"].fake)) > before
    assert float(logs["swap_discriminator_loss"]) == pytest.approx(
        float(tf.reduce_mean(tf.nn.softplus(-call.real) + tf.nn.softplus(call.fake))), rel=1e-5
    )


def test_swap_fakes_are_the_transfers_g_of_reference_z_and_unlabelled_e():
    model = compiled(weight_swap=1.0)
    x, x_reference = batch(2)
    model.start_step()
    _, pairs = model.objective(x, x_reference)
    fake_images = pairs["swap_discriminator"].inputs[0][BATCH:]
    # with the posterior noise at 0 the transfer is G(mean z(x_r), mean e(x)): check by replaying the noise
    model.start_step()
    noise = [model.sample_noise(BATCH, d) for d in (model.target_dim, model.common_dim, model.common_dim)]
    e = losses.reparameterize(*model.target_encoder(x, training=True), noise[0])
    z_r = losses.reparameterize(*model.common_encoder(x_reference, training=True), noise[2])
    np.testing.assert_allclose(fake_images, model.generator([z_r, e], training=True), atol=1e-5)


def test_latent_cycle_reads_the_codes_back_from_swapped_images_with_constant_targets():
    model = compiled(**SILENT, weight_latent_cycle=1.0)
    x, x_reference = batch(3)
    model.start_step()
    noise = [model.sample_noise(BATCH, d) for d in (model.target_dim, model.common_dim, model.common_dim)]
    model.start_step()
    with tf.GradientTape(persistent=True) as tape:
        recon, _ = model.objective(x, x_reference)
        e = losses.reparameterize(*model.target_encoder(x, training=True), noise[0])
        z = losses.reparameterize(*model.common_encoder(x, training=True), noise[1])
        z_r = losses.reparameterize(*model.common_encoder(x_reference, training=True), noise[2])
        e_r = model.reference_latent(BATCH)
        z_back = model.common_encoder(model.generator([z, e_r], training=True), training=True)
        e_back = model.target_encoder(model.generator([z_r, e], training=True), training=True)
        want = tf.reduce_mean(
            losses.gaussian_nll(tf.stop_gradient(z), *z_back) + losses.gaussian_nll(tf.stop_gradient(e), *e_back)
        )
    assert float(recon["latent_cycle"]) == pytest.approx(float(want), rel=1e-5)
    variables = model.model_variables
    assert_close(tape.gradient(recon["latent_cycle"], variables), tape.gradient(want, variables), variables)


def test_moments_term_is_the_moment_gap_of_the_posterior_means():
    model = compiled(weight_moments=1.0)
    x, x_reference = batch(4)
    model.start_step()
    recon, _ = model.objective(x, x_reference)
    z_mean, _ = model.common_encoder(x, training=True)
    zr_mean, _ = model.common_encoder(x_reference, training=True)
    assert float(recon["moments"]) == pytest.approx(float(losses.moment_gap(z_mean, zr_mean)), rel=1e-5)


def test_ramp_rises_linearly_from_zero_and_scales_the_domain_and_swap_terms_only():
    model = compiled(weight_domain=1.0, ramp_steps=10)
    assert float(model.ramp()) == 0.0
    model.optimizer.iterations.assign(5)
    assert float(model.ramp()) == pytest.approx(0.5)
    model.optimizer.iterations.assign(50)
    assert float(model.ramp()) == 1.0
    assert compiled().ramp() == 1.0
    model.optimizer.iterations.assign(5)
    x, x_reference = batch(5)
    model.start_step()
    logs, pairs = model.objective(x, x_reference)
    model_loss, recon_loss, _ = model.player_losses(logs, pairs)
    expected = float(logs["adversarial"]) + float(recon_loss) + 0.5 * float(logs["domain"])
    assert float(model_loss) == pytest.approx(expected, rel=1e-5)


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
    model = compiled(spectral_norm=True, weight_domain=1.0)
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
    assert len(wrapped) >= 3 * 3  # convs and dense layers of each discriminator, the domain MLP's three
    for layer in wrapped:
        kernel = np.asarray(layer.layer.kernel).reshape(-1, layer.layer.kernel.shape[-1])
        sigma = np.linalg.svd(kernel, compute_uv=False)[0]
        assert 0.9 < sigma < 1.1, (layer.name, sigma)
    plain = build_model("srbvae", **TINY)
    assert not any(isinstance(layer, keras.layers.SpectralNormalization) for layer in plain.discriminator.layers)


def test_the_levers_train_finite_with_the_fused_backward():
    model = compiled(
        weight_domain=1.0, weight_swap=1.0, weight_moments=1.0, weight_latent_cycle=1.0, adversarial_bound=10.0
    )
    x, x_reference = batch(8)
    logs = model.train_step((x, x_reference))
    for name in (
        "domain",
        "swap",
        "moments",
        "latent_cycle",
        "adversarial_bounded",
        "domain_discriminator_loss",
        "swap_discriminator_acc_fake",
    ):
        assert np.isfinite(float(logs[name])), name
    assert float(ops.abs(logs["latent_cycle"])) > 0

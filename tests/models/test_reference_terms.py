"""The terms beyond the paper (docs/ablations.md): off by default, weighted when on, reachable by name."""

import keras
import numpy as np
import pytest

from rbvae_tf import losses
from rbvae_tf.models import build_model
from rbvae_tf.networks import build_discriminator

TINY = dict(image_size=16, width=0.125, target_dim=3, common_dim=2, seed=1)


def batch(n=4):
    rng = np.random.default_rng(0)
    return tuple(keras.ops.convert_to_tensor(rng.uniform(-1, 1, (n, 16, 16, 3)).astype(np.float32)) for _ in range(2))


def test_paper_defaults_keep_the_extra_weights_at_zero():
    srbvae, rbvae = build_model("srbvae", **TINY), build_model("rbvae", **TINY)
    assert (srbvae.weight_kl, srbvae.weight_z_invariance, srbvae.weight_reference_target) == (0.0, 0.0, 0.0)
    assert srbvae.discriminator_dropout_mode == "element"
    assert rbvae.term_weights == {
        "kl_e": 1.0,
        "kl_z": 1.0,
        "reference_kl": 1.0,
        "z_invariance": 0.0,
        "reference_target": 0.0,
    }


def test_srbvae_terms_match_their_definitions():
    model = build_model("srbvae", weight_reference_target=2.0, **TINY)
    x, xr = batch()
    model.start_step()
    _, recon = model.adversarial_terms(x, xr)
    assert {"kl", "z_invariance", "reference_target"} <= set(recon)
    mean, log_var = model.target_encoder(xr, training=True)
    e_r = np.zeros((4, 3), np.float32)  # e_r starts at zero
    expected = float(np.mean(losses.gaussian_nll(e_r, mean, log_var)))
    assert float(recon["reference_target"]) == pytest.approx(expected, rel=1e-5)
    assert float(recon["kl"]) > 0


def test_rbvae_loss_weighs_each_term():
    weights = dict(beta_e=2.0, beta_z=0.5, weight_z_invariance=10.0)
    model = build_model("rbvae", **weights, **TINY)
    model.compile(jit_compile=False)
    x, xr = batch()
    keras.utils.set_random_seed(0)
    logs = {k: float(v) for k, v in model.train_step((x, xr)).items()}
    expected = (
        logs["reconstruction"]
        + 2.0 * logs["kl_e"]
        + 0.5 * logs["kl_z"]
        + logs["reference_reconstruction"]
        + 0.5 * logs["reference_kl"]
        + 10.0 * logs["z_invariance"]
    )
    assert logs["loss"] == pytest.approx(expected, rel=1e-4)
    assert logs["reference_target"] == 0.0  # off: not computed


def test_whole_input_dropout_zeroes_each_branch_at_once():
    d = build_discriminator(16, 0.125, [2, 3], dropout=0.5, dropout_mode="input")
    features = keras.Model(d.inputs, d.get_layer("concat").output)
    inputs = [np.ones((64, 16, 16, 3), np.float32), np.ones((64, 2), np.float32), np.ones((64, 3), np.float32)]
    clean = np.asarray(features(inputs, training=False))
    dropped = np.asarray(features(inputs, training=True))
    widths = [64, 32, 32]  # image_fc, z_fc, e_fc
    start = 0
    for width in widths:
        part, ref = dropped[:, start : start + width], clean[:, start : start + width]
        zeroed = np.all(part == 0, axis=1)
        kept = np.all(np.isclose(part, 2.0 * ref, atol=1e-5), axis=1)  # kept branches scaled by 1 / (1 - 0.5)
        assert np.all(zeroed | kept) and 0 < zeroed.sum() < 64
        start += width
    with pytest.raises(ValueError, match="dropout_mode must be one of element, input"):
        build_discriminator(16, 0.125, [2], dropout_mode="channels")


def test_instance_noise_is_off_by_default_and_moves_only_the_discriminators_images_when_on():
    x, xr = batch()
    plain, noisy = build_model("srbvae", **TINY), build_model("srbvae", discriminator_noise=0.5, **TINY)
    noisy.set_weights(plain.get_weights())
    assert plain.discriminator_noise == 0.0
    outputs = []
    for model in (plain, noisy):
        model.start_step()
        pairs, recon = model.adversarial_terms(x, xr)
        outputs.append((pairs, recon))
    (plain_pairs, plain_recon), (noisy_pairs, noisy_recon) = outputs
    for name in plain_pairs:
        clean, jittered = plain_pairs[name].inputs[0].numpy(), noisy_pairs[name].inputs[0].numpy()
        assert 0.4 < np.std(jittered - clean) < 0.6  # the noise's standard deviation, on every row
        for a, b in zip(plain_pairs[name].inputs[1:], noisy_pairs[name].inputs[1:]):
            np.testing.assert_array_equal(a.numpy(), b.numpy())  # latents untouched
    np.testing.assert_allclose(float(noisy_recon["image"]), float(plain_recon["image"]), rtol=1e-6)


def test_reference_transfer_fakes_put_g_of_z_and_e_r_among_the_reference_discriminators_fakes():
    x, xr = batch()
    model = build_model("srbvae", reference_transfer_fakes=True, **TINY)
    model.start_step()
    pairs, _ = model.adversarial_terms(x, xr)
    call = pairs["reference_discriminator"]
    images, latents = (t.numpy() for t in call.inputs)
    assert images.shape[0] == latents.shape[0] == 16  # (x_r, z_r) twice, then 4 prior and 4 transfer rows
    np.testing.assert_array_equal(images[:4], images[4:8])
    np.testing.assert_array_equal(images[:4], xr.numpy())
    z = pairs["discriminator"].inputs[1].numpy()[:4]  # z ~ q(z|x) of the unlabelled batch
    np.testing.assert_array_equal(latents[12:], z)
    e_r = np.broadcast_to(model.reference_target.numpy(), (4, 3))
    expected = model.generator([z, e_r], training=True).numpy()
    np.testing.assert_allclose(images[12:], expected, atol=1e-5)
    assert build_model("srbvae", **TINY).reference_transfer_fakes is False

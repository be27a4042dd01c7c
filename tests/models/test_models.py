"""Every model of Table 1: a train step, learning on a fixed batch, config and .keras round trips."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from rbvae_tf import models
from rbvae_tf.models import MODELS, build_model

TINY = dict(image_size=16, width=0.125, target_dim=4, common_dim=4, seed=3)
RECONSTRUCTION = {"svae": "image", "srbvae": "image"}
EXPECTED_KEYS = {
    "vae": {"loss", "reconstruction", "kl"},
    "beta-vae": {"loss", "reconstruction", "kl", "weighted_kl"},
    "dip-vae-i": {"loss", "reconstruction", "kl", "dip"},
    "dip-vae-ii": {"loss", "reconstruction", "kl", "dip"},
    "rbvae": {
        "loss",
        "reconstruction",
        "kl_e",
        "kl_z",
        "reference_reconstruction",
        "reference_kl",
        "z_invariance",
        "reference_target",
    },
    "svae": {
        "loss",
        "adversarial",
        "image",
        "latent",
        "discriminator_loss",
        "discriminator_acc_real",
        "discriminator_acc_fake",
    },
    "srbvae": {
        "loss",
        "adversarial",
        "image",
        "reference_image",
        "latent_z",
        "latent_e",
        "latent_reference",
        "z_invariance",
        "reference_target",
        "discriminator_loss",
        "discriminator_acc_real",
        "discriminator_acc_fake",
        "reference_discriminator_loss",
        "reference_discriminator_acc_real",
        "reference_discriminator_acc_fake",
    },
}


def fixed_batch(n=8, size=16):
    """Structured images in [-1, 1]: blobs of varying colour and position (learnable)."""
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:size, 0:size]
    images = []
    for i in range(n):
        cy, cx = rng.uniform(4, size - 4, 2)
        blob = np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / 8.0)
        colour = rng.uniform(0.2, 1.0, 3)
        images.append(blob[..., None] * colour * 2 - 1)
    x = np.stack(images).astype(np.float32)
    return x, x[:, :, :, :1].repeat(3, -1)


@pytest.fixture(scope="module", params=list(MODELS))
def trained(request):
    """Each model trained 6 epochs x 5 steps on one fixed batch; shared by the tests below."""
    name = request.param
    keras.utils.set_random_seed(0)  # weight initialisation independent of test order
    model = build_model(name, **TINY)
    model.compile(jit_compile=False)
    x, xr = fixed_batch()
    dataset = tf.data.Dataset.from_tensors((x, xr)).repeat()
    history = model.fit(dataset, epochs=6, steps_per_epoch=5, verbose=0).history
    return name, model, history, x


def test_train_step_logs_finite_values_with_expected_keys(trained):
    name, _, history, _ = trained
    assert set(history) == EXPECTED_KEYS[name]
    for key, values in history.items():
        assert np.all(np.isfinite(values)), key


def test_reconstruction_falls_on_a_fixed_batch(trained):
    name, _, history, _ = trained
    values = history[RECONSTRUCTION.get(name, "reconstruction")]
    assert values[-1] < 0.93 * values[0], values


def test_config_round_trip(trained):
    name, model, _, x = trained
    config = model.get_config()
    clone = type(model).from_config(config)
    assert clone.get_config() == config
    assert clone.count_params() == model.count_params()
    assert {k: config[k] for k in TINY} == TINY


def test_keras_file_round_trip(trained, tmp_path):
    name, model, _, x = trained
    path = tmp_path / f"{name}.keras"
    model.save(path)
    loaded = keras.models.load_model(path, safe_mode=True)
    assert type(loaded) is type(model)
    np.testing.assert_array_equal(np.asarray(loaded(x)), np.asarray(model(x)))
    assert int(loaded.optimizer.iterations) == int(model.optimizer.iterations) == 30
    if model.reference_based:
        np.testing.assert_array_equal(loaded.reference_target.numpy(), model.reference_target.numpy())
    if hasattr(model, "discriminator_optimizer"):
        assert int(loaded.discriminator_optimizer.iterations) == 30
        for a, b in zip(loaded.discriminator_optimizer.variables, model.discriminator_optimizer.variables):
            np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


def test_reference_target_is_learned(trained):
    name, model, _, _ = trained
    if not model.reference_based:
        pytest.skip("no e_r")
    assert np.abs(model.reference_target.numpy()).max() > 0  # initialised to zeros, moved by training


def test_players_are_separate():
    model = build_model("srbvae", **TINY)
    model.compile(jit_compile=False)
    assert model.optimizer is not model.discriminator_optimizer
    model_ids = {id(v) for v in model.model_variables}
    disc_ids = {id(v) for v in model.discriminator_variables}
    assert not model_ids & disc_ids
    assert model_ids | disc_ids == {id(v) for v in model.trainable_variables}
    assert id(model.reference_target) in model_ids
    # each optimizer holds Adam's m and v for its own player's variables only (+ its step counters)
    overhead = len(model.optimizer.variables) - 2 * len(model_ids)
    assert 1 <= overhead <= 2
    assert len(model.discriminator_optimizer.variables) - 2 * len(disc_ids) == overhead


def test_unsupervised_models_refuse_transfer():
    model = build_model("vae", **TINY)
    with pytest.raises(ValueError, match="needs a model with an e/z split"):
        model.encode_target(np.zeros((1, 16, 16, 3), np.float32))


def test_unknown_model_name():
    with pytest.raises(ValueError, match="unknown model 'gan'"):
        build_model("gan")


def test_dip_weights_follow_kumar():
    assert models.DIPVAE(dip_type="i", lambda_od=5.0, **TINY).diagonal_weight == 50.0
    assert models.DIPVAE(dip_type="ii", lambda_od=5.0, **TINY).diagonal_weight == 5.0


def test_beta_vae_logs_the_kl_and_its_weighted_term_apart():
    model = build_model("beta-vae", beta_kl=8.0, **TINY)
    model.compile(jit_compile=False)
    x, _ = fixed_batch()
    logs = {name: float(value) for name, value in model.train_step((x, x)).items()}
    assert logs["kl"] > 0
    assert logs["weighted_kl"] == pytest.approx(8.0 * logs["kl"], rel=1e-6)
    assert logs["loss"] == pytest.approx(logs["reconstruction"] + logs["weighted_kl"], rel=1e-6)

"""FitConfig: presets fill what is left None, per-model preset arguments, and the config.json round trip."""

import json

import pytest

from rbvae_tf import config as config_lib
from rbvae_tf.config import PRESETS, FitConfig


def test_saved_fit_config_rebuilds_the_same_config():
    original = FitConfig(model="rbvae", preset="tiny", epochs=3, model_args={"beta_e": 2.0})
    assert FitConfig(**json.loads(original.to_json())) == original


def test_preset_model_arguments_apply_to_their_model_only_and_yield_to_the_user(monkeypatch):
    monkeypatch.setitem(config_lib.PRESET_MODEL_ARGS, "cpu", {"srbvae": {"weight_kl": 2.0, "laplace_scale": 0.01}})
    assert FitConfig(model="srbvae").model_args == {"weight_kl": 2.0, "laplace_scale": 0.01}
    assert FitConfig(model="srbvae", model_args={"weight_kl": 0.0}).model_args == {"weight_kl": 0.0,
                                                                                   "laplace_scale": 0.01}
    assert FitConfig(model="vae").model_args == {}


def test_every_preset_sets_every_field_it_names():
    for name, values in PRESETS.items():
        config = FitConfig(preset=name)
        assert {key: getattr(config, key) for key in values} == values
    with pytest.raises(ValueError, match="unknown preset 'huge'"):
        FitConfig(preset="huge")


def test_xla_auto_is_on_only_with_a_gpu(monkeypatch):
    import tensorflow as tf

    from rbvae_tf.training import use_xla

    one, two = tf.distribute.get_strategy(), type("Two", (), {"num_replicas_in_sync": 2})()
    assert FitConfig(preset="paper").jit == "auto"
    assert use_xla(FitConfig(preset="paper"), one) is False  # this machine has no GPU
    monkeypatch.setattr(tf.config, "list_physical_devices", lambda kind=None: ["gpu0"] if kind == "GPU" else [])
    assert use_xla(FitConfig(preset="paper"), one) is True
    assert use_xla(FitConfig(preset="paper"), two) is False  # XLA fails under MirroredStrategy
    assert use_xla(FitConfig(preset="cpu"), one) is False and use_xla(FitConfig(preset="cpu", jit=True), one) is True

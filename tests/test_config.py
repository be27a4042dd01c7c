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

"""The model arguments that were removed (`REMOVED_ARGUMENTS`): the configs saved with them at their former
default keep loading, any other value is refused by name, and the CLI's `--model-arg` refuses them all."""

import json

import keras
import pytest

from rbvae_tf import from_preset
from rbvae_tf.errors import UserError
from rbvae_tf.models import REMOVED_ARGUMENTS, SRbVAE, build_model
from rbvae_tf.presets import available_presets, zoo_dir

TINY = dict(image_size=16, width=0.125, target_dim=2, common_dim=3)
FORMER = {  # a value of each removed argument that was not its default (the ablations' own)
    "weight_kl": 10.0,
    "discriminator_dropout_mode": "input",
    "discriminator_noise": 0.2,
    "reference_transfer_fakes": True,
    "weight_r1": 10.0,
    "weight_domain": 1000.0,
    "weight_swap": 1000.0,
    "weight_latent_cycle": 100.0,
    "weight_moments": 10000.0,
    "ramp_steps": 800,
}
# the removed arguments that a config held only when on: the presets (all off) never wrote them
UNWRITTEN_AT_DEFAULT = {"weight_domain", "weight_swap", "weight_latent_cycle", "weight_moments", "ramp_steps"}


def srbvae_config():
    """A tiny sRb-VAE's config with every removed argument at its former default, as the presets hold them."""
    return {**SRbVAE(name="srbvae", **TINY).get_config(), **REMOVED_ARGUMENTS}


def test_the_presets_hold_the_removed_arguments_at_their_former_default_and_load():
    presets = available_presets()
    assert len(presets) == 7
    held = set()
    for name in presets:
        saved = json.loads((zoo_dir() / name / "config.json").read_text())["model"]["config"]
        held |= set(saved) & set(REMOVED_ARGUMENTS)
        model, _ = from_preset(name)
        assert not set(model.get_config()) & set(REMOVED_ARGUMENTS), name
    assert UNWRITTEN_AT_DEFAULT < set(REMOVED_ARGUMENTS)
    assert held == set(REMOVED_ARGUMENTS) - UNWRITTEN_AT_DEFAULT  # every removed argument a preset wrote


def test_from_config_drops_a_removed_argument_at_its_former_default():
    config = srbvae_config()
    model = keras.saving.deserialize_keras_object(
        {
            "module": "rbvae_tf.models.srbvae",
            "class_name": "SRbVAE",
            "config": config,
            "registered_name": "rbvae_tf>SRbVAE",
        }
    )
    assert model.get_config() == SRbVAE(name="srbvae", **TINY).get_config()
    assert type(model).from_config(config).get_config() == model.get_config()


@pytest.mark.parametrize("name", sorted(FORMER))
def test_from_config_refuses_a_removed_argument_at_any_other_value(name):
    model_class = SRbVAE
    with pytest.raises(ValueError, match=rf"^model argument {name}=.* was removed; see docs/ablations.md$"):
        model_class.from_config({**srbvae_config(), name: FORMER[name]})


def test_a_flag_is_not_its_number():
    """`reference_transfer_fakes` was a flag: 0 is not False (nor is 0.0 the flag `False` for a weight)."""
    model_class = SRbVAE
    with pytest.raises(ValueError, match="reference_transfer_fakes=0 was removed"):
        model_class.from_config({**srbvae_config(), "reference_transfer_fakes": 0})
    with pytest.raises(ValueError, match="weight_r1=False was removed"):
        model_class.from_config({**srbvae_config(), "weight_r1": False})


@pytest.mark.parametrize("name", sorted(FORMER))
def test_build_model_refuses_a_removed_argument_whatever_its_value(name):
    for value in (FORMER[name], REMOVED_ARGUMENTS[name]):
        with pytest.raises(UserError, match=rf"^model argument {name}=.* was removed; see docs/ablations.md$"):
            build_model("srbvae", **TINY, **{name: value})

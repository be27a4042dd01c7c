"""The seven models of Table 1, by their CLI names."""

import inspect

from rbvae_tf.errors import UserError
from rbvae_tf.models.base import PAPER_ADAM, REMOVED_ARGUMENTS, LatentModel, paper_adam, removed_argument_error
from rbvae_tf.models.beta_vae import BetaVAE
from rbvae_tf.models.dip_vae import DIPVAE
from rbvae_tf.models.rbvae import RbVAE
from rbvae_tf.models.srbvae import SRbVAE
from rbvae_tf.models.svae import SVAE
from rbvae_tf.models.vae import VAE

# CLI name -> (class, fixed constructor arguments)
MODELS = {
    "vae": (VAE, {}),
    "beta-vae": (BetaVAE, {}),
    "dip-vae-i": (DIPVAE, {"dip_type": "i"}),
    "dip-vae-ii": (DIPVAE, {"dip_type": "ii"}),
    "svae": (SVAE, {}),
    "rbvae": (RbVAE, {}),
    "srbvae": (SRbVAE, {}),
}


def argument_defaults(name):
    """{argument: default} of the constructor arguments of model `name` (see `model_arguments`)."""
    cls, fixed = MODELS[name]
    defaults = {}
    for klass in reversed(cls.__mro__[: cls.__mro__.index(LatentModel) + 1]):
        defaults.update(
            {
                p.name: p.default
                for p in inspect.signature(klass.__init__).parameters.values()
                if p.kind is p.POSITIONAL_OR_KEYWORD and p.name != "self"
            }
        )
    return {key: value for key, value in defaults.items() if key not in fixed}


def check_argument_types(name, kwargs):
    """UserError when a value's type does not fit its default's: a number for a number, a string for a
    string, true/false for a flag (`--model-arg beta_kl=high` fails here, not deep inside training)."""
    defaults = argument_defaults(name)
    for key, value in kwargs.items():
        default = defaults.get(key, inspect.Parameter.empty)
        if isinstance(default, bool):
            wanted, ok = "true or false", isinstance(value, bool)
        elif isinstance(default, int):
            wanted, ok = "an integer", isinstance(value, int) and not isinstance(value, bool)
        elif isinstance(default, float):
            wanted, ok = "a number", isinstance(value, (int, float)) and not isinstance(value, bool)
        elif isinstance(default, str):
            wanted, ok = "a string", isinstance(value, str)
        else:
            continue
        if not ok:
            raise UserError(f"{name} argument {key} must be {wanted}, got {value!r}")


def model_arguments(name):
    """The constructor arguments that model `name` accepts (its class and every base up to LatentModel)."""
    cls, fixed = MODELS[name]
    names = set()
    for klass in cls.__mro__[: cls.__mro__.index(LatentModel) + 1]:
        names |= {
            p.name
            for p in inspect.signature(klass.__init__).parameters.values()
            if p.kind is p.POSITIONAL_OR_KEYWORD and p.name != "self"
        }
    return sorted(names - set(fixed))


def build_model(name, **kwargs):
    """A model of the zoo by its CLI name, e.g. `build_model("srbvae", image_size=32, width=0.25)`.

    An unknown model name or constructor argument is a `UserError` (a ValueError) that lists the
    valid ones; a removed argument (`REMOVED_ARGUMENTS`) is one that says so, whatever its value.

    Example:
    >>> build_model("vae", image_size=16, width=0.125).image_size
    16
    >>> build_model("gan")
    Traceback (most recent call last):
    rbvae_tf.errors.UserError: unknown model 'gan'; choose one of vae, beta-vae, dip-vae-i, dip-vae-ii, svae, ...
    """
    if name not in MODELS:
        raise UserError(f"unknown model {name!r}; choose one of {', '.join(MODELS)}")
    for key, value in kwargs.items():
        if key in REMOVED_ARGUMENTS:
            raise removed_argument_error(key, value)
    accepted = model_arguments(name)
    unknown = sorted(set(kwargs) - set(accepted))
    if unknown:
        raise UserError(
            f"{name} takes no argument {', '.join(map(repr, unknown))}; its arguments are {', '.join(accepted)}"
        )
    check_argument_types(name, kwargs)
    cls, fixed = MODELS[name]
    return cls(**fixed, **kwargs)


__all__ = [
    "MODELS",
    "PAPER_ADAM",
    "REMOVED_ARGUMENTS",
    "BetaVAE",
    "DIPVAE",
    "LatentModel",
    "RbVAE",
    "SRbVAE",
    "SVAE",
    "VAE",
    "build_model",
    "model_arguments",
    "paper_adam",
]

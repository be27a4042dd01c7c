"""The seven models of Table 1, by their CLI names."""

from rbvae_tf.models.base import PAPER_ADAM, LatentModel, paper_adam
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


def build_model(name, **kwargs):
    """A model of the zoo by its CLI name, e.g. `build_model("srbvae", image_size=32, width=0.25)`."""
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r}; choose one of {', '.join(MODELS)}")
    cls, fixed = MODELS[name]
    return cls(**fixed, **kwargs)


__all__ = ["MODELS", "PAPER_ADAM", "BetaVAE", "DIPVAE", "LatentModel", "RbVAE", "SRbVAE", "SVAE", "VAE",
           "build_model", "paper_adam"]

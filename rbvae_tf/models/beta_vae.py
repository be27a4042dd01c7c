import keras

from rbvae_tf.models.vae import VAE


@keras.saving.register_keras_serializable(package="rbvae_tf")
class BetaVAE(VAE):
    """beta-VAE (Higgins et al. 2017): the VAE objective (Eq. 1) with the KL weighted by beta_kl.

    Logs `kl`, KL(q(z|x) || p(z)) itself (the same column as the other models), and `weighted_kl`,
    beta_kl times it, the term that enters the loss: loss = reconstruction + weighted_kl.

    Args:
        beta_kl: float. Weight of KL(q(z|x) || p(z)). Defaults to 4.0.
        **kwargs: the arguments of `LatentModel` (image_size, width, target_dim, ...).

    Example:
    >>> BetaVAE(image_size=16, width=0.125, beta_kl=8.0).beta_kl
    8.0
    """

    metric_names = ("loss", "reconstruction", "kl", "weighted_kl")
    term_weights = {"kl": 0.0}  # logged for comparison only; the loss takes it through weighted_kl

    def __init__(self, beta_kl=4.0, **kwargs):
        super().__init__(**kwargs)
        # === Config ===
        self.beta_kl = beta_kl

    def objective(self, x, x_reference):
        _, _, reconstruction, kl = self.elbo_terms(x)
        return {"reconstruction": reconstruction, "kl": kl, "weighted_kl": self.beta_kl * kl}

    def get_config(self):
        return {**super().get_config(), "beta_kl": self.beta_kl}

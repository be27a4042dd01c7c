import keras
from keras import ops

from rbvae_tf import losses
from rbvae_tf.models.adversarial_base import AdversarialBase
from rbvae_tf.networks import build_discriminator


@keras.saving.register_keras_serializable(package="rbvae_tf")
class SVAE(AdversarialBase):
    """Symmetric VAE (Pu et al. 2018): the unsupervised counterpart of sRb-VAE.

    Minimises KL(q(x,z) || p(x,z)) + KL(p(x,z) || q(x,z)) through one discriminator d(x, z) that
    estimates log q(z|x)p(x) / p(x|z)p(z) (the one-discriminator case of Eq. 7-9), plus the explicit
    reconstructions of Eq. 10: -log p(x | z) for z ~ q(z|x) and -log q(z_hat | x_hat) for
    z_hat ~ N(0, I), x_hat = G(z_hat). Trained on the unlabelled images only.

    Args:
        weight_image: float. Weight of the image reconstruction term. Defaults to 1.0.
        weight_latent: float. Weight of the latent reconstruction term. Defaults to 1.0.
        **kwargs: the arguments of `AdversarialBase` and `LatentModel`.

    Example:
    >>> model = SVAE(image_size=16, width=0.125, target_dim=2, common_dim=2)
    >>> model.discriminator.name
    'discriminator'
    """

    discriminator_names = ("discriminator",)
    recon_names = ("image", "latent")
    metric_names = AdversarialBase.tracked_names(discriminator_names, recon_names)

    def __init__(self, weight_image=1.0, weight_latent=1.0, **kwargs):
        super().__init__(**kwargs)
        # === Layers ===
        latent_dim = self.target_dim + self.common_dim
        self.discriminator = build_discriminator(
            self.image_size,
            self.width,
            [latent_dim],
            self.discriminator_dropout,
            name="discriminator",
            spectral_norm=self.spectral_norm,
        )
        # === Config ===
        self.weight_image = weight_image
        self.weight_latent = weight_latent

    def get_config(self):
        return {**super().get_config(), "weight_image": self.weight_image, "weight_latent": self.weight_latent}

    def objective(self, x, x_reference):
        """(terms, pairs): Eq. 8 and 9 of the one discriminator d(x, z) (`game_terms`), then the image and
        latent reconstructions of Eq. 10; pairs: {"discriminator": real (x, z) from q, fake (x_hat, z_hat)}."""
        batch = ops.shape(x)[0]
        _, _, z = self.infer(self.encoder, x)
        z_hat = self.sample_noise(batch, self.target_dim + self.common_dim)
        x_hat = self.generator(z_hat, training=True)
        pairs = {"discriminator": self.discriminate(self.discriminator, [x, z], [x_hat, z_hat])}
        hat_mean, hat_log_var = self.encoder(x_hat, training=True)
        recon = {
            "image": ops.mean(losses.laplace_nll(x, self.generator(z, training=True), self.laplace_scale)),
            "latent": ops.mean(losses.gaussian_nll(z_hat, hat_mean, hat_log_var)),
        }
        return {**recon, **self.game_terms(pairs)}, pairs

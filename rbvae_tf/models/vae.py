import keras

from rbvae_tf.models.vae_base import VAEBase


@keras.saving.register_keras_serializable(package="rbvae_tf")
class VAE(VAEBase):
    """Unsupervised VAE (Kingma & Welling 2014) with the paper's Laplace likelihood.

    Objective (Eq. 1): E_x[ KL(q(z|x) || N(0, I)) - E_q log p(x|z) ], with
    -log p(x|z) = ||x - G(z)||_1 / beta (Laplace, scale beta = 0.01). Trained on the unlabelled
    images only; the reference batch is ignored. Latents: target_dim + common_dim.

    Example:
    >>> model = VAE(image_size=16, width=0.125, target_dim=2, common_dim=2)
    >>> model(keras.ops.zeros((1, 16, 16, 3))).shape
    TensorShape([1, 16, 16, 3])
    """

    metric_names = ("loss", "reconstruction", "kl")

    def objective(self, x, x_reference):
        _, _, reconstruction, kl = self.elbo_terms(x)
        return {"reconstruction": reconstruction, "kl": kl}

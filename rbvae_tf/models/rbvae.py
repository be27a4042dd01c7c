import keras
from keras import ops

from rbvae_tf import losses
from rbvae_tf.models.vae_base import VAEBase


@keras.saving.register_keras_serializable(package="rbvae_tf")
class RbVAE(VAEBase):
    """Reference-based VAE trained with the standard variational objective, Eq. 3 of the paper.

    For an unlabelled batch x and an independent reference batch x_r it minimises
        KL(q(z|x) q(e|x) || p(z) p(e)) - E_q log p(x | z, e)
      + KL(q(z|x_r) || p(z))          - E_q log p(x_r | z_r, e_r),
    where e_r is a learned constant (the trainable weight `reference_target`) and p(x|z, e) is a
    Laplace with mean G(z, e) and scale beta. Reference images need no inference over e.

    Example:
    >>> model = RbVAE(image_size=16, width=0.125, target_dim=2, common_dim=3)
    >>> model.encode_target(keras.ops.zeros((1, 16, 16, 3)))["mean"].shape
    TensorShape([1, 2])
    """

    reference_based = True
    metric_names = ("loss", "reconstruction", "kl", "reference_reconstruction", "reference_kl")

    def objective(self, x, x_reference):
        e_mean, e_log_var, e = self.infer(self.target_encoder, x)
        z_mean, z_log_var, z = self.infer(self.common_encoder, x)
        zr_mean, zr_log_var, z_r = self.infer(self.common_encoder, x_reference)
        e_r = self.reference_latent(ops.shape(z_r)[0])
        x_fit = self.generator([z, e], training=True)
        xr_fit = self.generator([z_r, e_r], training=True)
        return {
            "reconstruction": ops.mean(losses.laplace_nll(x, x_fit, self.laplace_scale)),
            "kl": ops.mean(losses.kl_to_standard_normal(z_mean, z_log_var)
                           + losses.kl_to_standard_normal(e_mean, e_log_var)),
            "reference_reconstruction": ops.mean(losses.laplace_nll(x_reference, xr_fit, self.laplace_scale)),
            "reference_kl": ops.mean(losses.kl_to_standard_normal(zr_mean, zr_log_var)),
        }

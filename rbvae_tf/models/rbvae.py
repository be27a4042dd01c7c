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

    Each logged term enters the loss times its weight (`term_weights`, as in every model): the KL
    terms on e and on z have their own weights (beta_e, beta_z; 1 in the paper), and two terms beyond
    the paper are off by default: z_invariance, MMD(q(z|x), q(z|x_r)) (`losses.mmd`, always computed),
    and reference_target, -log q(e_r | x_r) (computed only when weighted), as in sRb-VAE.

    Args:
        beta_e: float. Weight of KL(q(e|x) || p(e)). Defaults to 1.0 (the paper).
        beta_z: float. Weight of KL(q(z|x) || p(z)) and KL(q(z|x_r) || p(z)). Defaults to 1.0.
        weight_z_invariance: float. Weight of MMD(q(z|x), q(z|x_r)). Defaults to 0.0.
        weight_reference_target: float. Weight of -log q(e_r | x_r). Defaults to 0.0.
        **kwargs: the arguments of `LatentModel`.

    Example:
    >>> model = RbVAE(image_size=16, width=0.125, target_dim=2, common_dim=3)
    >>> model.encode_target(keras.ops.zeros((1, 16, 16, 3)))["mean"].shape
    TensorShape([1, 2])
    """

    reference_based = True
    metric_names = (
        "loss",
        "reconstruction",
        "kl_e",
        "kl_z",
        "reference_reconstruction",
        "reference_kl",
        "z_invariance",
        "reference_target",
    )

    def __init__(self, beta_e=1.0, beta_z=1.0, weight_z_invariance=0.0, weight_reference_target=0.0, **kwargs):
        super().__init__(**kwargs)
        # === Config ===
        self.beta_e = beta_e
        self.beta_z = beta_z
        self.weight_z_invariance = weight_z_invariance
        self.weight_reference_target = weight_reference_target

    def get_config(self):
        return {
            **super().get_config(),
            "beta_e": self.beta_e,
            "beta_z": self.beta_z,
            "weight_z_invariance": self.weight_z_invariance,
            "weight_reference_target": self.weight_reference_target,
        }

    @property
    def term_weights(self):
        return {
            "kl_e": self.beta_e,
            "kl_z": self.beta_z,
            "reference_kl": self.beta_z,
            "z_invariance": self.weight_z_invariance,
            "reference_target": self.weight_reference_target,
        }

    def objective(self, x, x_reference):
        e_mean, e_log_var, e = self.infer(self.target_encoder, x)
        z_mean, z_log_var, z = self.infer(self.common_encoder, x)
        zr_mean, zr_log_var, z_r = self.infer(self.common_encoder, x_reference)
        e_r = self.reference_latent(ops.shape(z_r)[0])
        x_fit = self.generator([z, e], training=True)
        xr_fit = self.generator([z_r, e_r], training=True)
        terms = {
            "reconstruction": ops.mean(losses.laplace_nll(x, x_fit, self.laplace_scale)),
            "kl_e": ops.mean(losses.kl_to_standard_normal(e_mean, e_log_var)),
            "kl_z": ops.mean(losses.kl_to_standard_normal(z_mean, z_log_var)),
            "reference_reconstruction": ops.mean(losses.laplace_nll(x_reference, xr_fit, self.laplace_scale)),
            "reference_kl": ops.mean(losses.kl_to_standard_normal(zr_mean, zr_log_var)),
            "z_invariance": losses.mmd(z, z_r),
        }
        if self.weight_reference_target:  # one more target-encoder pass, so only when weighted
            e_r_mean, e_r_log_var = self.target_encoder(x_reference, training=True)
            terms["reference_target"] = ops.mean(losses.gaussian_nll(e_r, e_r_mean, e_r_log_var))
        return terms

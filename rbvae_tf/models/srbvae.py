import keras
from keras import ops

from rbvae_tf import losses
from rbvae_tf.models.adversarial_base import AdversarialBase
from rbvae_tf.networks import build_discriminator


@keras.saving.register_keras_serializable(package="rbvae_tf")
class SRbVAE(AdversarialBase):
    """Symmetric reference-based VAE (sRb-VAE): Eq. 4-10 and Algorithm 1 of the paper.

    Per batch of M unlabelled x and M reference x_r:
      e ~ q(e|x), z ~ q(z|x), z_r ~ q(z|x_r); e_hat, z_hat, z_r_hat ~ N(0, I);
      x_hat = G(z_hat, e_hat), x_r_hat = G(z_r_hat, e_r), e_r a learned constant.
    Discriminators d(x, z, e) and d'(x, z) estimate the log density ratios of Eq. 7 by logistic
    regression (Eq. 9); encoders, generator and e_r minimise Eq. 8 plus the explicit reconstructions of
    Eq. 10, each term times its weight (`weight_<term>`, `weight_adversarial` for Eq. 8). `objective`
    computes every term and the discriminators' (real, fake) pairs; `AdversarialBase` trains the two
    players on them, each with its own Adam optimizer.

    Args:
        weight_image, weight_reference_image, weight_latent_z, weight_latent_e,
        weight_latent_reference: float. Weights of the Eq. 10 terms. Default to 1.0 (the paper).
        weight_z_invariance, weight_reference_target: float. Weights of the terms beyond the paper.
            Default to 0.0 (the paper).
        **kwargs: the arguments of `AdversarialBase` and `LatentModel`.

    Example:
    >>> model = SRbVAE(image_size=16, width=0.125, target_dim=2, common_dim=3)
    >>> tuple(model.reference_target.shape)
    (2,)
    """

    reference_based = True
    discriminator_names = ("discriminator", "reference_discriminator")
    recon_names = (
        "image",
        "reference_image",
        "latent_z",
        "latent_e",
        "latent_reference",
        "z_invariance",
        "reference_target",
    )
    metric_names = AdversarialBase.tracked_names(discriminator_names, recon_names)

    def __init__(
        self,
        weight_image=1.0,
        weight_reference_image=1.0,
        weight_latent_z=1.0,
        weight_latent_e=1.0,
        weight_latent_reference=1.0,
        weight_z_invariance=0.0,
        weight_reference_target=0.0,
        **kwargs,
    ):
        super().__init__(**kwargs)
        # === Layers ===
        self.discriminator = build_discriminator(
            self.image_size,
            self.width,
            [self.common_dim, self.target_dim],
            self.discriminator_dropout,
            name="discriminator",
            spectral_norm=self.spectral_norm,
        )
        self.reference_discriminator = build_discriminator(
            self.image_size,
            self.width,
            [self.common_dim],
            self.discriminator_dropout,
            name="reference_discriminator",
            spectral_norm=self.spectral_norm,
        )
        # === Config ===
        self.weight_image = weight_image
        self.weight_reference_image = weight_reference_image
        self.weight_latent_z = weight_latent_z
        self.weight_latent_e = weight_latent_e
        self.weight_latent_reference = weight_latent_reference
        self.weight_z_invariance = weight_z_invariance
        self.weight_reference_target = weight_reference_target

    def get_config(self):
        return {
            **super().get_config(),
            **{f"weight_{n}": getattr(self, f"weight_{n}") for n in type(self).recon_names},
        }

    def objective(self, x, x_reference):
        """sRb-VAE's objective on a batch of M unlabelled x and M reference x_r: its terms and the pairs.

        Returns:
            (terms, pairs).
            terms: {name: scalar}, each averaged over the batch:
              adversarial:       Eq. 8, E[d(x, z, e)] + E[d'(x_r, z_r)] - E[d(x_hat, z_hat, e_hat)]
                                 - E[d'(x_r_hat, z_r_hat)], the model player's (`game_terms`);
              discriminator_loss, reference_discriminator_loss:
                                 Eq. 9, the logistic loss of d and of d', the discriminator player's;
              image:             Eq. 10, -log p(x | z, e)             (Laplace)
              reference_image:   Eq. 10, -log p(x_r | z_r, e_r)       (Laplace)
              latent_z:          Eq. 10, -log q(z_hat | x_hat)        (Gaussian)
              latent_e:          Eq. 10, -log q(e_hat | x_hat)        (Gaussian)
              latent_reference:  Eq. 10, -log q(z_r_hat | x_r_hat)    (Gaussian)
              beyond the paper (docs/ablations.md; weight 0 by default):
              z_invariance:      MMD(q(z|x), q(z|x_r)) between the batches (`losses.mmd`), always computed: the
                                 two sets show the same digits, so it is 0 when z holds no target factor;
              reference_target:  -log q(e_r | x_r), e of reference images pulled to e_r (only when weighted);
            pairs: {network name: `DiscriminatorCall`}, each unpacking as (real_logits, fake_logits):
              discriminator:           real (x, z, e) from q, fake (x_hat, z_hat, e_hat) from p;
              reference_discriminator: real (x_r, z_r) from q, fake (x_r_hat, z_r_hat) from p;
            with e ~ q(e|x), z ~ q(z|x), z_r ~ q(z|x_r); e_hat, z_hat, z_r_hat ~ N(0, I);
            x_hat = G(z_hat, e_hat), x_r_hat = G(z_r_hat, e_r), e_r the learned constant `reference_target`.
        """
        # Each network runs once per stage on the concatenation of its inputs (no layer mixes the rows
        # of a batch), split back afterwards: 6 calls instead of 14 on batches of M.
        batch = ops.shape(x)[0]
        # Sampling noise, one call site each in the order of Alg. 1 (posterior e, z, z_r, then p side).
        noise_e = self.sample_noise(batch, self.target_dim)
        noise_z = self.sample_noise(batch, self.common_dim)
        noise_zr = self.sample_noise(batch, self.common_dim)
        e_hat = self.sample_noise(batch, self.target_dim)
        z_hat = self.sample_noise(batch, self.common_dim)
        zr_hat = self.sample_noise(batch, self.common_dim)
        e_r = self.reference_latent(batch)
        # p side (Alg. 1, lines 9-13): x_hat = G(z_hat, e_hat), x_r_hat = G(z_r_hat, e_r)
        x_hat, xr_hat = split(
            self.generator([ops.concatenate([z_hat, zr_hat], 0), ops.concatenate([e_hat, e_r], 0)], training=True), 2
        )
        # q side (Alg. 1, lines 4-6) and the latent reconstructions of Eq. 10, one pass per encoder
        common = self.common_encoder(ops.concatenate([x, x_reference, x_hat, xr_hat], 0), training=True)
        (z_mean, zr_mean, hat_z_mean, hat_zr_mean), (z_log_var, zr_log_var, hat_z_log_var, hat_zr_log_var) = (
            split(t, 4) for t in common
        )
        target = self.target_encoder(ops.concatenate([x, x_hat], 0), training=True)
        (e_mean, hat_e_mean), (e_log_var, hat_e_log_var) = (split(t, 2) for t in target)
        e = losses.reparameterize(e_mean, e_log_var, noise_e)
        z = losses.reparameterize(z_mean, z_log_var, noise_z)
        z_r = losses.reparameterize(zr_mean, zr_log_var, noise_zr)
        # Eq. 10: image reconstructions G(z, e) and G(z_r, e_r)
        x_fit, xr_fit = split(
            self.generator([ops.concatenate([z, z_r], 0), ops.concatenate([e, e_r], 0)], training=True), 2
        )
        # discriminators: real (q) rows first, fake (p) rows second
        pairs = {
            "discriminator": self.discriminate(self.discriminator, [x, z, e], [x_hat, z_hat, e_hat]),
            "reference_discriminator": self.discriminate(
                self.reference_discriminator, [x_reference, z_r], [xr_hat, zr_hat]
            ),
        }
        recon = {
            "image": ops.mean(losses.laplace_nll(x, x_fit, self.laplace_scale)),
            "reference_image": ops.mean(losses.laplace_nll(x_reference, xr_fit, self.laplace_scale)),
            "latent_z": ops.mean(losses.gaussian_nll(z_hat, hat_z_mean, hat_z_log_var)),
            "latent_e": ops.mean(losses.gaussian_nll(e_hat, hat_e_mean, hat_e_log_var)),
            "latent_reference": ops.mean(losses.gaussian_nll(zr_hat, hat_zr_mean, hat_zr_log_var)),
            "z_invariance": losses.mmd(z, z_r),
        }
        if self.weight_reference_target:  # one more target-encoder pass, so only when weighted
            e_r_mean, e_r_log_var = self.target_encoder(x_reference, training=True)
            recon["reference_target"] = ops.mean(losses.gaussian_nll(e_r, e_r_mean, e_r_log_var))
        return {**recon, **self.game_terms(pairs)}, pairs


def split(tensor, parts):
    """A batch concatenated from `parts` equal batches, split back into a tuple of them."""
    return tuple(ops.split(tensor, parts, axis=0))

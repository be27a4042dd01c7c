"""The sRb-VAE step runs each network once per stage on concatenated batches: same terms, same gradients.

`unbatched_terms` is a former `SRbVAE.objective` (14 network calls on batches of M), kept here as the
reference; `batched_terms` is today's, less the game's terms (computed from the pairs, checked elsewhere).
With dropout off and the same sampling noise (one `sample_noise` call site each, in the same order) both give
the same terms and gradients up to float32 summation order.
"""

import numpy as np
import pytest
import tensorflow as tf
from keras import ops

from rbvae_tf import losses
from rbvae_tf.models import build_model

BATCH = 6
TINY = dict(image_size=16, width=0.125, target_dim=2, common_dim=3, seed=3, discriminator_dropout=0.0)


def unbatched_terms(self, x, x_reference):
    batch = ops.shape(x)[0]
    e_mean, e_log_var, e = self.infer(self.target_encoder, x)
    z_mean, z_log_var, z = self.infer(self.common_encoder, x)
    zr_mean, zr_log_var, z_r = self.infer(self.common_encoder, x_reference)
    e_hat = self.sample_noise(batch, self.target_dim)
    z_hat = self.sample_noise(batch, self.common_dim)
    zr_hat = self.sample_noise(batch, self.common_dim)
    e_r = self.reference_latent(batch)
    x_hat = self.generator([z_hat, e_hat], training=True)
    xr_hat = self.generator([zr_hat, e_r], training=True)
    pairs = {
        "discriminator": (
            self.discriminator([x, z, e], training=True),
            self.discriminator([x_hat, z_hat, e_hat], training=True),
        ),
        "reference_discriminator": (
            self.reference_discriminator([x_reference, z_r], training=True),
            self.reference_discriminator([xr_hat, zr_hat], training=True),
        ),
    }
    hat_e_mean, hat_e_log_var = self.target_encoder(x_hat, training=True)
    hat_z_mean, hat_z_log_var = self.common_encoder(x_hat, training=True)
    hat_zr_mean, hat_zr_log_var = self.common_encoder(xr_hat, training=True)
    x_fit = self.generator([z, e], training=True)
    xr_fit = self.generator([z_r, e_r], training=True)
    recon = {
        "image": ops.mean(losses.laplace_nll(x, x_fit, self.laplace_scale)),
        "reference_image": ops.mean(losses.laplace_nll(x_reference, xr_fit, self.laplace_scale)),
        "latent_z": ops.mean(losses.gaussian_nll(z_hat, hat_z_mean, hat_z_log_var)),
        "latent_e": ops.mean(losses.gaussian_nll(e_hat, hat_e_mean, hat_e_log_var)),
        "latent_reference": ops.mean(losses.gaussian_nll(zr_hat, hat_zr_mean, hat_zr_log_var)),
        "z_invariance": losses.mmd(z, z_r),
    }
    if self.weight_reference_target:
        recon["reference_target"] = ops.mean(losses.gaussian_nll(e_r, *self.target_encoder(x_reference, training=True)))
    return pairs, recon


def batched_terms(self, x, x_reference):
    """(pairs, reconstruction-like terms) of `SRbVAE.objective`."""
    terms, pairs = self.objective(x, x_reference)
    return pairs, {name: terms[name] for name in self.recon_names if name in terms}


def terms_and_gradients(model, terms, x, x_reference):
    """Every term, and the gradients of both players' losses (all weights 1), from one forward pass."""
    model.start_step()
    with tf.GradientTape(persistent=True) as tape:
        pairs, recon = terms(model, x, x_reference)
        model_loss = sum(losses.density_ratio_gap(r, f) for r, f in pairs.values()) + sum(recon.values())
        discriminator_loss = sum(ops.mean(losses.discriminator_loss(r, f)) for r, f in pairs.values())
    values = {
        **{k: float(v) for k, v in recon.items()},
        **{f"{k}_{side}": np.asarray(t) for k, p in pairs.items() for side, t in zip(("real", "fake"), p)},
    }
    grads = tape.gradient(model_loss, model.model_variables) + tape.gradient(
        discriminator_loss, model.discriminator_variables
    )
    return values, [np.asarray(g) for g in grads]


@pytest.mark.parametrize("weight_reference_target", [0.0, 1.0])
def test_batched_step_equals_unbatched_step(weight_reference_target):
    model = build_model("srbvae", **TINY, weight_reference_target=weight_reference_target)
    model.compile(jit_compile=False)
    rng = np.random.default_rng(0)
    x, x_reference = (tf.constant(rng.uniform(-1, 1, (BATCH, 16, 16, 3)).astype(np.float32)) for _ in range(2))
    new_values, new_grads = terms_and_gradients(model, batched_terms, x, x_reference)
    old_values, old_grads = terms_and_gradients(model, unbatched_terms, x, x_reference)
    assert sorted(new_values) == sorted(old_values)
    assert ("reference_target" in new_values) == bool(weight_reference_target)
    for name in old_values:
        np.testing.assert_allclose(new_values[name], old_values[name], rtol=1e-5, atol=1e-5, err_msg=name)
    assert len(new_grads) == len(old_grads) == len(model.model_variables) + len(model.discriminator_variables)
    for new, old, variable in zip(new_grads, old_grads, model.model_variables + model.discriminator_variables):
        scale = float(np.abs(old).max())
        assert scale > 0, variable.path  # every variable gets a gradient
        # float32 sums in another order (oneDNN picks kernels by batch size): measured up to 5e-5 of the largest
        np.testing.assert_allclose(new / scale, old / scale, atol=2e-4, err_msg=variable.path)

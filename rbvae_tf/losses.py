"""Loss maths of the paper and its baselines, as pure functions of tensors.

Every function returns one value per example (shape (B,)) unless it says otherwise; the models
average over the batch. Each is tested against hand-computed values in tests/test_losses.py.
"""

import math

from keras import ops

from rbvae_tf.distribute import gather_replicas

LOG_2PI = math.log(2.0 * math.pi)


def _sum_except_batch(x):
    return ops.sum(ops.reshape(x, (ops.shape(x)[0], -1)), axis=-1)


def laplace_nll(x, mean, scale=0.01):
    """Negative log-likelihood of x under a Laplace with mean G(z, e) and fixed scale (Sec. 4.1).

    As in the paper, the constant `log(2 * scale)` per pixel is dropped: `sum_pixels |x - mean| / scale`.
    With scale 0.01 this is the L1 reconstruction error times 100.
    """
    return _sum_except_batch(ops.abs(x - mean)) / scale


def gaussian_nll(x, mean, log_var):
    """Negative log-density of x under N(mean, diag(exp(log_var))), summed over dimensions.

    Used for the latent reconstruction terms of Eq. 10: -log q(z|x_hat) at the sampled z_hat.
    """
    return 0.5 * ops.sum(LOG_2PI + log_var + ops.square(x - mean) * ops.exp(-log_var), axis=-1)


def kl_to_standard_normal(mean, log_var):
    """KL(N(mean, diag(exp(log_var))) || N(0, I)), summed over dimensions (Eq. 1 and 3)."""
    return 0.5 * ops.sum(ops.square(mean) + ops.exp(log_var) - log_var - 1.0, axis=-1)


def reparameterize(mean, log_var, noise):
    """A sample of N(mean, exp(log_var)) as `mean + exp(log_var / 2) * noise` (reparameterisation)."""
    return mean + ops.exp(0.5 * log_var) * noise


def mmd(a, b, scales=(0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0)):
    """Unbiased estimate of the squared maximum mean discrepancy between two samples (a scalar).

    Used for the z-invariance term (beyond the paper): z of unlabelled images and z of reference
    images should have the same distribution when z holds only the common factors. The kernel is
    the inverse multiquadratic `sum_s C_s / (C_s + |a - b|^2)` with `C_s = 2 * D * s`
    (Tolstikhin et al. 2018), D the latent dimension, which has heavy tails and so keeps
    gradients when the two samples are far apart.

    Args:
        a: (N, D) tensor, N >= 2.
        b: (M, D) tensor, M >= 2.
        scales: tuple of float. Kernel scales s, relative to 2D. Defaults to 0.1 ... 10.

    Returns:
        scalar tensor; 0 in expectation when a and b come from the same distribution.

    Inside a multi-replica step, a and b are first gathered from all replicas (`gather_replicas`):
    a statistic of pairs is not a mean of per-replica values, and so N replicas compute the MMD of
    the global batch as one device does.
    """
    a, b = gather_replicas(a), gather_replicas(b)
    dim = ops.cast(ops.shape(a)[1], a.dtype)

    def kernel(x, y):
        sq = (
            ops.sum(ops.square(x), 1)[:, None]
            + ops.sum(ops.square(y), 1)[None, :]
            - 2.0 * ops.matmul(x, ops.transpose(y))
        )
        sq = ops.maximum(sq, 0.0)
        return sum(2.0 * dim * s / (2.0 * dim * s + sq) for s in scales)

    def mean_off_diagonal(k):
        n = ops.cast(ops.shape(k)[0], k.dtype)
        return (ops.sum(k) - ops.sum(ops.diagonal(k))) / (n * (n - 1.0))

    return mean_off_diagonal(kernel(a, a)) + mean_off_diagonal(kernel(b, b)) - 2.0 * ops.mean(kernel(a, b))


def _covariance(x):
    centred = x - ops.mean(x, axis=0, keepdims=True)
    n = ops.cast(ops.shape(x)[0], x.dtype)
    return ops.matmul(ops.transpose(centred), centred) / n


def dip_penalty(mean, log_var, lambda_od, lambda_d, dip_type="i"):
    """DIP-VAE regulariser (Kumar et al. 2018), a scalar for the batch.

    DIP-VAE-I penalises Cov_x[mu(x)]; DIP-VAE-II penalises Cov_q[z] = E_x[Sigma(x)] + Cov_x[mu(x)].
    With C the chosen covariance: `lambda_od * sum_{i != j} C_ij^2 + lambda_d * sum_i (C_ii - 1)^2`.
    The covariance uses the batch (divided by B, not B - 1); inside a multi-replica step, the batch
    gathered from all replicas (`gather_replicas`), so N replicas penalise the global batch's covariance.
    """
    mean, log_var = gather_replicas(mean), gather_replicas(log_var)
    cov = _covariance(mean)
    if dip_type == "ii":
        cov = cov + ops.diag(ops.mean(ops.exp(log_var), axis=0))
    elif dip_type != "i":
        raise ValueError(f"dip_type must be 'i' or 'ii', got {dip_type!r}")
    diagonal = ops.diagonal(cov)
    off_diagonal = cov - ops.diag(diagonal)
    return lambda_od * ops.sum(ops.square(off_diagonal)) + lambda_d * ops.sum(ops.square(diagonal - 1.0))


def discriminator_loss(real_logits, fake_logits):
    """Logistic-regression loss of a log-density-ratio discriminator (Eq. 9), per example.

    The discriminator d maximises `log sigmoid(d(real)) + log(1 - sigmoid(d(fake)))`, where "real"
    pairs come from the encoders q (x, z~q(z|x)) and "fake" pairs from the generative model p
    (x_hat~p(x|z_hat), z_hat~p(z)); at the optimum d = log q/p (Eq. 7). We return the negative,
    `softplus(-d_real) + softplus(d_fake)`, which is minimised.

    Note: the extracted paper text of Eq. 9 attaches sigmoid(d) to the p-samples, which would make d
    estimate log p/q and contradict Eq. 7 and Alg. 1 (lines 16-18); we follow Eq. 7 and Alg. 1.
    """
    return ops.softplus(-real_logits) + ops.softplus(fake_logits)


def density_ratio_gap(real_logits, fake_logits):
    """The generator-side adversarial objective of Eq. 8 for one discriminator (a scalar).

    `E_q[d(x, z, e)] - E_p[d(x_hat, z_hat, e_hat)]`, a Monte-Carlo estimate of the symmetric KL
    KL(q||p) + KL(p||q) when d = log q/p. Minimised by the encoders, generator and e_r.
    """
    return ops.mean(real_logits) - ops.mean(fake_logits)


def binary_accuracy(logits, is_real):
    """Fraction of logits on the right side of 0 (real pairs should have d > 0)."""
    hits = ops.greater(logits, 0.0) if is_real else ops.less(logits, 0.0)
    return ops.mean(ops.cast(hits, "float32"))


def bounded_logit(logits, bound):
    """`bound * tanh(logits / bound)`: a logit squashed into (-bound, bound), unchanged near 0 (beyond the paper).

    Eq. 8 reads the discriminator's logit as a log density ratio; a saturated discriminator gives logits of
    thousands of nats, and the model player's term with them. Bounding the logit in Eq. 8 only (the
    discriminators keep the raw logit in their own loss, Eq. 9) caps each sample's share of the term at
    `bound` nats. `bound` 0 returns the logits unchanged (the paper).
    """
    if not bound:
        return logits
    return bound * ops.tanh(logits / bound)

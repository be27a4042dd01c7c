"""One train step for the VAE family (VAE, beta-VAE, DIP-VAE-I/II, Rb-VAE).

Each variant only defines `objective(x, x_reference)`, a dict of named scalar terms; their sum,
each term times its weight in `term_weights` (1 when absent), is minimised with a single
optimizer. The terms are logged unweighted.
"""

import tensorflow as tf
from keras import ops

from rbvae_tf import losses
from rbvae_tf.models.base import LatentModel, paper_adam


class VAEBase(LatentModel):
    """Single-player models: gradient of the summed objective, one optimizer (Adam of the paper)."""

    def compile(self, optimizer=None, **kwargs):
        super().compile(optimizer=optimizer or paper_adam(), **kwargs)
        self.optimizer.build(self.trainable_variables)

    def objective(self, x, x_reference):
        raise NotImplementedError

    def train_step(self, data):
        x, x_reference = data
        self.start_step()
        with tf.GradientTape() as tape:
            terms = self.objective(x, x_reference)
            weights = self.term_weights
            loss = sum(weights.get(name, 1.0) * value for name, value in terms.items())
            # Gradients are summed across replicas: scale so N replicas equal one on the global batch.
            scaled = loss / tf.distribute.get_strategy().num_replicas_in_sync
        variables = self.trainable_variables
        self.optimizer.apply(tape.gradient(scaled, variables), variables)
        return self.update_trackers({"loss": loss, **terms})

    # --- pieces shared by the unsupervised variants ----------------------------------------------

    def elbo_terms(self, x):
        """Posterior, sample and the two ELBO terms (Eq. 1) of the unsupervised models."""
        mean, log_var, z = self.infer(self.encoder, x)
        reconstruction = ops.mean(losses.laplace_nll(x, self.generator(z, training=True), self.laplace_scale))
        kl = ops.mean(losses.kl_to_standard_normal(mean, log_var))
        return mean, log_var, reconstruction, kl

"""One train step for the adversarial family (sVAE, sRb-VAE): a real two-player min-max.

Each variant defines `adversarial_terms(x, x_reference)`, which returns
  pairs:  {name: (real_logits, fake_logits)}, one per discriminator; "real" pairs come from the
          encoders q (x, z ~ q(z|x), ...), "fake" pairs from the generative model p;
  recon:  {name: scalar}, the explicit reconstruction terms of Eq. 10, already averaged.
The model player (encoders, generator, e_r) minimises
  weight_adversarial * sum_d (E_q d - E_p d)  (Eq. 8)  +  sum_k weight_k * recon_k  (Eq. 10),
and the discriminator player minimises the logistic loss of Eq. 9, each with its own optimizer,
from one forward pass (Alg. 1: all gradients at the current parameters, then both updates).
"""

import keras
import tensorflow as tf
from keras import ops

from rbvae_tf import losses
from rbvae_tf.models.base import LatentModel, paper_adam


class AdversarialBase(LatentModel):
    """Base of sVAE and sRb-VAE.

    Args:
        discriminator_dropout: float. Dropout on the inputs of the discriminators' last fully
            connected block (Appendix D). Defaults to 0.25.
        discriminator_dropout_mode: str. `"element"` (each feature) or `"input"` (each input's whole
            feature vector: image, z, e), see `build_discriminator`. Defaults to `"element"`.
        weight_adversarial: float. Weight of the Eq. 8 term. Defaults to 1.0 (the paper).
        **kwargs: the arguments of `LatentModel`; subclasses add one weight per Eq. 10 term.
    """

    discriminator_names = ()

    def __init__(self, discriminator_dropout=0.25, weight_adversarial=1.0, discriminator_dropout_mode="element",
                 **kwargs):
        super().__init__(**kwargs)
        self.discriminator_dropout = discriminator_dropout
        self.discriminator_dropout_mode = discriminator_dropout_mode
        self.weight_adversarial = weight_adversarial

    def get_config(self):
        return {**super().get_config(), "discriminator_dropout": self.discriminator_dropout,
                "discriminator_dropout_mode": self.discriminator_dropout_mode,
                "weight_adversarial": self.weight_adversarial}

    # --- the two players ---------------------------------------------------------------------------

    @property
    def discriminators(self):
        return [getattr(self, name) for name in self.discriminator_names]

    @property
    def discriminator_variables(self):
        return [v for d in self.discriminators for v in d.trainable_variables]

    @property
    def model_variables(self):
        """Encoders, generator and e_r: everything trainable that is not a discriminator."""
        excluded = {id(v) for v in self.discriminator_variables}
        return [v for v in self.trainable_variables if id(v) not in excluded]

    def compile(self, optimizer=None, discriminator_optimizer=None, **kwargs):
        """One optimizer per player, both Adam with the paper's settings by default."""
        super().compile(optimizer=optimizer or paper_adam(), **kwargs)
        self.discriminator_optimizer = discriminator_optimizer or paper_adam()
        self.optimizer.build(self.model_variables)
        self.discriminator_optimizer.build(self.discriminator_variables)

    def get_compile_config(self):
        config = super().get_compile_config()
        if config:
            config["discriminator_optimizer"] = keras.saving.serialize_keras_object(
                self.discriminator_optimizer)
        return config

    # --- the train step ----------------------------------------------------------------------------

    def adversarial_terms(self, x, x_reference):
        raise NotImplementedError

    def train_step(self, data):
        x, x_reference = data
        self.start_step()
        replicas = tf.distribute.get_strategy().num_replicas_in_sync
        with tf.GradientTape() as model_tape, tf.GradientTape() as discriminator_tape:
            pairs, recon = self.adversarial_terms(x, x_reference)
            adversarial = sum(losses.density_ratio_gap(real, fake) for real, fake in pairs.values())
            model_loss = self.weight_adversarial * adversarial + sum(
                getattr(self, f"weight_{name}") * value for name, value in recon.items())
            discriminator_losses = {
                f"{name}_loss": ops.mean(losses.discriminator_loss(real, fake))
                for name, (real, fake) in pairs.items()}
            discriminator_loss = sum(discriminator_losses.values())
            # Gradients are summed across replicas: divide so N replicas equal one on the global batch.
            model_scaled = model_loss / replicas
            discriminator_scaled = discriminator_loss / replicas
        model_variables = self.model_variables
        discriminator_variables = self.discriminator_variables
        model_grads = model_tape.gradient(model_scaled, model_variables)
        discriminator_grads = discriminator_tape.gradient(discriminator_scaled, discriminator_variables)
        self.optimizer.apply(model_grads, model_variables)
        self.discriminator_optimizer.apply(discriminator_grads, discriminator_variables)
        logs = {"loss": model_loss, "adversarial": adversarial, **recon, **discriminator_losses}
        for name, (real, fake) in pairs.items():
            logs[f"{name}_acc_real"] = losses.binary_accuracy(real, is_real=True)
            logs[f"{name}_acc_fake"] = losses.binary_accuracy(fake, is_real=False)
        return self.update_trackers(logs)

    @staticmethod
    def tracked_names(discriminator_names, recon_names):
        """Names of the logged values: losses, each Eq. 10 term, each discriminator's loss and accuracy."""
        names = ["loss", "adversarial", *recon_names]
        for d in discriminator_names:
            names += [f"{d}_loss", f"{d}_acc_real", f"{d}_acc_fake"]
        return tuple(names)

"""One train step for the adversarial family (sVAE, sRb-VAE): a real two-player min-max.

Each variant defines `adversarial_terms(x, x_reference)`, which returns
  pairs:  {name: DiscriminatorCall}, one per discriminator, each unpacking as (real_logits, fake_logits)
          (`discriminate`); "real" pairs come from the encoders q (x, z ~ q(z|x), ...), "fake" pairs
          from the generative model p;
  recon:  {name: scalar}, the explicit reconstruction terms of Eq. 10, already averaged.
The model player (encoders, generator, e_r) minimises
  weight_adversarial * sum_d (E_q d - E_p d)  (Eq. 8)  +  sum_k weight_k * recon_k  (Eq. 10),
and the discriminator player minimises the logistic loss of Eq. 9, each with its own optimizer,
from one forward pass (Alg. 1: all gradients at the current parameters, then both updates) and one
backward pass through each discriminator (`game_gradients`).
"""

import keras
import tensorflow as tf
from keras import ops

from rbvae_tf import losses
from rbvae_tf.models.base import LatentModel, paper_adam

# Smallest magnitude of the discriminator loss's gradient at a logit that `game_gradients` sends back
# through a discriminator. The logistic loss's is sigmoid(-|logit|) / M: it is floored only past
# |logit| ~ 50, where that row's share of d's gradient is ~1e-22 and negligible, so that the per-row
# rescaling stays finite and d's backward stays clear of float32 underflow (flushed to zero on CPU).
MIN_UPSTREAM = 1e-24


class DiscriminatorCall:
    """One call of a discriminator on M real (q) rows followed by M fake (p) rows.

    Unpacks as `(real_logits, fake_logits)`; keeps the call's `inputs` and `logits` for `game_gradients`.
    """

    def __init__(self, inputs, logits, r1=None):
        self.inputs = list(inputs)
        self.logits = logits
        self.r1 = r1  # mean squared gradient norm at the real rows' inputs (with `weight_r1`), else None
        self.real, self.fake = ops.split(logits, 2, axis=0)

    def __iter__(self):
        return iter((self.real, self.fake))


class AdversarialBase(LatentModel):
    """Base of sVAE and sRb-VAE.

    Args:
        discriminator_dropout: float. Dropout on the inputs of the discriminators' last fully
            connected block (Appendix D). Defaults to 0.25.
        discriminator_dropout_mode: str. `"element"` (each feature) or `"input"` (each input's whole
            feature vector: image, z, e), see `build_discriminator`. Defaults to `"element"`.
        weight_adversarial: float. Weight of the Eq. 8 term. Defaults to 1.0 (the paper).
        discriminator_noise: float. Standard deviation of Gaussian "instance noise" added to every image
            a discriminator sees, real and fake rows alike, so that the two image distributions overlap
            and the discriminators cannot separate them perfectly (beyond the paper; docs/ablations.md).
            Defaults to 0.0 (the paper).
        weight_r1: float. gamma of the R1 penalty (Mescheder et al., 2018) added to the discriminator
            player's loss: gamma / 2 times the mean over the real (q) rows of the squared norm of
            d's gradient at all its inputs (image and latents), one per discriminator, logged as
            `<discriminator>_r1` (beyond the paper; docs/ablations.md). Defaults to 0.0 (the paper).
        **kwargs: the arguments of `LatentModel`; subclasses add one weight per Eq. 10 term.
    """

    discriminator_names = ()

    def __init__(
        self,
        discriminator_dropout=0.25,
        weight_adversarial=1.0,
        discriminator_dropout_mode="element",
        discriminator_noise=0.0,
        weight_r1=0.0,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.discriminator_dropout = discriminator_dropout
        self.discriminator_dropout_mode = discriminator_dropout_mode
        self.weight_adversarial = weight_adversarial
        self.discriminator_noise = discriminator_noise
        self.weight_r1 = weight_r1
        if weight_r1:
            self.trackers.update(
                {f"{name}_r1": keras.metrics.Mean(name=f"{name}_r1") for name in self.discriminator_names}
            )

    def get_config(self):
        return {
            **super().get_config(),
            "discriminator_dropout": self.discriminator_dropout,
            "discriminator_dropout_mode": self.discriminator_dropout_mode,
            "weight_adversarial": self.weight_adversarial,
            "discriminator_noise": self.discriminator_noise,
            "weight_r1": self.weight_r1,
        }

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
            config["discriminator_optimizer"] = keras.saving.serialize_keras_object(self.discriminator_optimizer)
        return config

    # --- the train step ----------------------------------------------------------------------------

    def adversarial_terms(self, x, x_reference):
        raise NotImplementedError

    def discriminate(self, discriminator, real_inputs, fake_inputs):
        """`discriminator` on the real rows and the fake rows in one call (no layer mixes rows).

        The first input is the image; with `discriminator_noise` it gets this step's instance noise.
        With `weight_r1`, an inner tape also takes d's gradient at the inputs of the real rows (recorded
        by the train step's tape, which differentiates the penalty with respect to d's weights).
        """
        inputs = [ops.concatenate([real, fake], 0) for real, fake in zip(real_inputs, fake_inputs)]
        if self.discriminator_noise:
            images = inputs[0]
            rows, size = ops.shape(images)[0], self.image_size
            noise = ops.reshape(self.sample_noise(rows, size * size * 3), (rows, size, size, 3))
            inputs[0] = images + self.discriminator_noise * noise
        if not self.weight_r1:
            return DiscriminatorCall(inputs, discriminator(inputs, training=True))
        with tf.GradientTape(watch_accessed_variables=False) as inner:
            inner.watch(inputs)
            logits = discriminator(inputs, training=True)
            real = ops.sum(ops.split(logits, 2, axis=0)[0])
        # no layer mixes rows: the gradient of the real rows' sum is each real row's own, 0 on the fake rows
        gradients = inner.gradient(real, inputs)
        rows = ops.shape(logits)[0] // 2
        squared = sum(ops.sum(ops.reshape(ops.square(g[:rows]), (rows, -1)), axis=1) for g in gradients)
        return DiscriminatorCall(inputs, logits, r1=ops.mean(squared))

    def game_gradients(self, tape, calls, model_loss, recon_loss, discriminator_loss):
        """Both players' gradients, with one backward pass through each discriminator instead of two.

        Args:
            tape: a persistent `tf.GradientTape` that recorded the forward pass.
            calls: list of `DiscriminatorCall`.
            model_loss: the model player's loss, `recon_loss` plus the Eq. 8 term.
            recon_loss: its part that does not go through a discriminator (Eq. 10's reconstructions).
            discriminator_loss: the discriminator player's loss (Eq. 9).

        Returns:
            (gradients of `model_variables`, gradients of `discriminator_variables`).

        A discriminator's logit is one number per row and none of its layers mixes rows, so any loss's
        gradient at a row of its inputs is that loss's gradient at the row's logit times the same row of
        the Jacobian. One backward of the logits with the discriminator loss's gradients gives the
        discriminator's weight gradients (Eq. 9) and, at its inputs, the Jacobian rows scaled by those;
        rescaling each row by (model loss gradient / discriminator loss gradient) at its logit gives the
        model's gradient at the inputs (Eq. 8), which goes on into the generator and encoders with the
        reconstruction terms'. The discriminator loss's gradient is floored at `MIN_UPSTREAM` (|d| > ~50)
        so that the ratio stays finite. Equal to two separate backward passes up to float rounding
        (tests/models/test_game_gradients.py).
        """
        logits = [call.logits for call in calls]
        model_at_logits = tape.gradient(model_loss, logits)
        upstream = [
            tf.where(g < 0, tf.minimum(g, -MIN_UPSTREAM), tf.maximum(g, MIN_UPSTREAM))
            for g in tape.gradient(discriminator_loss, logits)
        ]
        ratios = [to_model / back for to_model, back in zip(model_at_logits, upstream)]  # (2M, 1) each
        inputs = [(tensor, ratio) for call, ratio in zip(calls, ratios) for tensor in call.inputs]
        discriminator_variables = self.discriminator_variables
        grads = tape.gradient(
            logits, discriminator_variables + [tensor for tensor, _ in inputs], output_gradients=upstream
        )
        discriminator_grads, input_grads = grads[: len(discriminator_variables)], grads[len(discriminator_variables) :]
        targets, target_grads = [recon_loss], [tf.ones_like(recon_loss)]
        for (tensor, ratio), grad in zip(inputs, input_grads):
            if grad is not None:  # None: an input that depends on no variable
                targets.append(tensor)
                target_grads.append(grad * tf.reshape(ratio, [-1] + [1] * (len(tensor.shape) - 1)))
        model_grads = tape.gradient(targets, self.model_variables, output_gradients=target_grads)
        return model_grads, discriminator_grads

    def train_step(self, data):
        x, x_reference = data
        self.start_step()
        replicas = tf.distribute.get_strategy().num_replicas_in_sync
        with tf.GradientTape(persistent=True) as tape:
            pairs, recon = self.adversarial_terms(x, x_reference)
            adversarial = sum(losses.density_ratio_gap(real, fake) for real, fake in pairs.values())
            recon_loss = sum(getattr(self, f"weight_{name}") * value for name, value in recon.items())
            model_loss = self.weight_adversarial * adversarial + recon_loss
            discriminator_losses = {
                f"{name}_loss": ops.mean(losses.discriminator_loss(real, fake)) for name, (real, fake) in pairs.items()
            }
            discriminator_loss = sum(discriminator_losses.values())
            r1 = {f"{name}_r1": call.r1 for name, call in pairs.items() if call.r1 is not None}
            r1_loss = 0.5 * self.weight_r1 * sum(r1.values()) / replicas if r1 else None
            # Gradients are summed across replicas: divide so N replicas equal one on the global batch.
            scaled = [loss / replicas for loss in (model_loss, recon_loss, discriminator_loss)]
        model_grads, discriminator_grads = self.game_gradients(tape, list(pairs.values()), *scaled)
        if r1_loss is not None:  # the penalty is the discriminator player's only: d's weights alone
            discriminator_grads = [
                g if p is None else (p if g is None else g + p)
                for g, p in zip(discriminator_grads, tape.gradient(r1_loss, self.discriminator_variables))
            ]
        del tape
        self.optimizer.apply(model_grads, self.model_variables)
        self.discriminator_optimizer.apply(discriminator_grads, self.discriminator_variables)
        logs = {"loss": model_loss, "adversarial": adversarial, **recon, **discriminator_losses, **r1}
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

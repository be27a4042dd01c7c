"""One train step for the adversarial family (sVAE, sRb-VAE): a real two-player min-max.

Each variant defines `objective(x, x_reference)`, which returns
  terms:  {name: scalar}, every named term of its objective, already averaged (`game_terms` gives the
          game's: Eq. 8's "adversarial" and each discriminator's Eq. 9 loss "<network>_loss");
  pairs:  {network name: DiscriminatorCall}, one per discriminator, each unpacking as (real_logits,
          fake_logits) (`discriminate`); "real" rows come from the encoders q (x, z ~ q(z|x), ...),
          "fake" rows from the generative model p.
The model player (encoders, generator, e_r) minimises
  weight_adversarial * adversarial  (Eq. 8)  +  sum_k weight_k * term_k  (Eq. 10 and the rest),
the weights in `term_weights`, and the discriminator player minimises the sum of the Eq. 9 losses,
each with its own optimizer, from one forward pass (Alg. 1: all gradients at the current parameters,
then both updates). The gradients are those of a plain persistent tape, one `tape.gradient` per player
on its own variables; `fused_backward=True` takes both from one backward pass through each
discriminator instead (`game_gradients`, equal up to float rounding).
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

    def __init__(self, inputs, logits):
        self.inputs = list(inputs)
        self.logits = logits
        self.real, self.fake = ops.split(logits, 2, axis=0)

    def __iter__(self):
        return iter((self.real, self.fake))


class AdversarialBase(LatentModel):
    """Base of sVAE and sRb-VAE.

    Args:
        discriminator_dropout: float. Dropout on the inputs of the discriminators' last fully
            connected block (Appendix D). Defaults to 0.25.
        weight_adversarial: float. Weight of the Eq. 8 term. Defaults to 1.0 (the paper).
        adversarial_bound: float. c > 0 bounds each logit in the Eq. 8 term to c * tanh(d / c) nats
            (`losses.bounded_logit`); the discriminators keep the raw logit in their own loss (beyond the
            paper). Defaults to 0.0 (unbounded, the paper).
        spectral_norm: bool. Spectral normalisation of every layer of the discriminators (beyond the
            paper). Defaults to False.
        gradient_clip: float. c > 0 clips the model player's gradients to global norm c (of the global
            batch's gradient, also on several replicas; beyond the paper). Its norm is ~1e5 at the cpu
            budget, where the Laplace terms dominate. Defaults to 0.0 (no clip).
        discriminator_gradient_clip: float. The same for the discriminator player (norm ~1 at the cpu
            budget). Defaults to 0.0 (no clip).
        fused_backward: bool. Both players' gradients from one backward pass through each discriminator
            (`game_gradients`) instead of one `tape.gradient` per player: the same gradients up to float
            rounding (tests/models/test_game_gradients.py). Defaults to False.
        **kwargs: the arguments of `LatentModel`; subclasses add one weight per term (`weight_<term>`).
    """

    discriminator_names = ()

    def __init__(
        self,
        discriminator_dropout=0.25,
        weight_adversarial=1.0,
        adversarial_bound=0.0,
        spectral_norm=False,
        gradient_clip=0.0,
        discriminator_gradient_clip=0.0,
        fused_backward=False,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.discriminator_dropout = discriminator_dropout
        self.weight_adversarial = weight_adversarial
        self.adversarial_bound = adversarial_bound
        self.spectral_norm = spectral_norm
        self.gradient_clip = gradient_clip
        self.discriminator_gradient_clip = discriminator_gradient_clip
        self.fused_backward = fused_backward
        if adversarial_bound:
            self.add_trackers(["adversarial_bounded"])
        if gradient_clip or discriminator_gradient_clip:
            self.add_trackers(["model_grad_norm", "discriminator_grad_norm"])

    def add_trackers(self, names):
        """Running means for logged values beyond the class's `metric_names` (terms that are switched on)."""
        self.trackers.update({name: keras.metrics.Mean(name=name) for name in names if name not in self.trackers})

    def get_config(self):
        return {
            **super().get_config(),
            "discriminator_dropout": self.discriminator_dropout,
            "weight_adversarial": self.weight_adversarial,
            # the bounded game's arguments are written only when on: configs of the paper's game stay as they were
            **{
                name: getattr(self, name)
                for name in (
                    "adversarial_bound",
                    "spectral_norm",
                    "gradient_clip",
                    "discriminator_gradient_clip",
                    "fused_backward",
                )
                if getattr(self, name)
            },
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

    def objective(self, x, x_reference):
        """(terms, pairs) of one batch: {name: scalar} and {network name: DiscriminatorCall} (module docstring)."""
        raise NotImplementedError

    def discriminate(self, discriminator, real_inputs, fake_inputs):
        """`discriminator` on the real rows and the fake rows in one call (no layer mixes rows)."""
        inputs = [ops.concatenate([real, fake], 0) for real, fake in zip(real_inputs, fake_inputs)]
        return DiscriminatorCall(inputs, discriminator(unlisted(inputs), training=True))

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

    def game_terms(self, pairs):
        """The game's terms from the discriminators' (real, fake) pairs, for a variant's `objective`.

        Returns:
            {name: scalar}:
            adversarial: Eq. 8, the sum over the pairs of E_q[d] - E_p[d] (`losses.density_ratio_gap`),
                the model player's term, on the raw logits;
            adversarial_bounded: the same of the logits bounded by `adversarial_bound` (`losses.bounded_logit`),
                which replaces it in the model player's loss (only when `adversarial_bound` > 0);
            <network>_loss: Eq. 9, the logistic loss of each pair (`losses.discriminator_loss`) on the raw
                logits, the discriminator player's.
        """
        gaps = [tuple(call) for call in pairs.values()]
        terms = {"adversarial": sum(losses.density_ratio_gap(real, fake) for real, fake in gaps)}
        if self.adversarial_bound:
            bound = self.adversarial_bound
            terms["adversarial_bounded"] = sum(
                losses.density_ratio_gap(losses.bounded_logit(real, bound), losses.bounded_logit(fake, bound))
                for real, fake in gaps
            )
        for name, (real, fake) in pairs.items():
            terms[f"{name}_loss"] = ops.mean(losses.discriminator_loss(real, fake))
        return terms

    @property
    def term_weights(self):
        """{term: its weight in the model player's loss}: `weight_adversarial` for Eq. 8, `weight_<term>` for
        every other term of the model player (the reconstructions)."""
        names = [name for name in self.recon_names if hasattr(self, f"weight_{name}")]
        weights = {name: getattr(self, f"weight_{name}") for name in names}
        return {"adversarial": self.weight_adversarial, **weights}

    def player_losses(self, terms, pairs):
        """(model_loss, recon_loss, discriminator_loss) from `objective`'s outputs.

        The model player's loss is `term_weights` x its terms: Eq. 8 (`adversarial_bounded` in place of
        `adversarial` when the logits are bounded) and each reconstruction-like term (`recon_names`).
        `recon_loss` is its part that reaches no discriminator (for `game_gradients`). The discriminator
        player's loss is the sum of the Eq. 9 losses.
        """
        weights = self.term_weights
        adversarial = terms["adversarial_bounded"] if self.adversarial_bound else terms["adversarial"]
        recon_loss = sum(weights[name] * terms[name] for name in self.recon_names if name in terms)
        model_loss = weights["adversarial"] * adversarial + recon_loss
        discriminator_loss = sum(terms[f"{name}_loss"] for name in pairs)
        return model_loss, recon_loss, discriminator_loss

    def player_gradients(self, tape, pairs, model_loss, recon_loss, discriminator_loss):
        """(gradients of `model_variables`, gradients of `discriminator_variables`) from the persistent `tape`
        that recorded the forward pass: each player's loss differentiated for its own variables, or, with
        `fused_backward`, both from one backward pass through each discriminator (`game_gradients`)."""
        if self.fused_backward:
            return self.game_gradients(tape, list(pairs.values()), model_loss, recon_loss, discriminator_loss)
        return (
            tape.gradient(model_loss, self.model_variables),
            tape.gradient(discriminator_loss, self.discriminator_variables),
        )

    @staticmethod
    def clip(gradients, norm):
        """(a player's gradients clipped to global norm `norm`, their global norm before clipping).

        On N replicas the gradients are first summed over the replicas (each replica's share of the
        global batch's gradient) and clipped as one, then divided by N again for the optimizer's own
        sum: the same update, and the same norm, as one replica on the global batch. `norm` 0 returns
        the gradients unchanged.
        """
        context = tf.distribute.get_replica_context()
        replicas = context.num_replicas_in_sync if context is not None else 1
        present = [i for i, g in enumerate(gradients) if g is not None]
        values = [gradients[i] for i in present]
        if replicas > 1:
            values = context.all_reduce(tf.distribute.ReduceOp.SUM, values)
        if not norm:
            return gradients, tf.linalg.global_norm(values)
        clipped, before = tf.clip_by_global_norm(values, norm)
        out = list(gradients)
        for i, g in zip(present, clipped):
            out[i] = g / replicas if replicas > 1 else g
        return out, before

    def train_step(self, data):
        x, x_reference = data
        self.start_step()
        replicas = tf.distribute.get_strategy().num_replicas_in_sync
        with tf.GradientTape(persistent=True) as tape:
            terms, pairs = self.objective(x, x_reference)
            model_loss, recon_loss, discriminator_loss = self.player_losses(terms, pairs)
            # Gradients are summed across replicas: divide so N replicas equal one on the global batch.
            scaled = [loss / replicas for loss in (model_loss, recon_loss, discriminator_loss)]
        model_grads, discriminator_grads = self.player_gradients(tape, pairs, *scaled)
        del tape
        logs = {"loss": model_loss, **terms}
        for name, (real, fake) in pairs.items():
            logs[f"{name}_acc_real"] = losses.binary_accuracy(real, is_real=True)
            logs[f"{name}_acc_fake"] = losses.binary_accuracy(fake, is_real=False)
        if self.gradient_clip or self.discriminator_gradient_clip:  # norms of the global batch's gradients
            model_grads, logs["model_grad_norm"] = self.clip(model_grads, self.gradient_clip)
            discriminator_grads, logs["discriminator_grad_norm"] = self.clip(
                discriminator_grads, self.discriminator_gradient_clip
            )
        self.optimizer.apply(model_grads, self.model_variables)
        self.discriminator_optimizer.apply(discriminator_grads, self.discriminator_variables)
        return self.update_trackers(logs)

    @staticmethod
    def tracked_names(discriminator_names, recon_names):
        """Names of the logged values: losses, each Eq. 10 term, each discriminator's loss and accuracy."""
        names = ["loss", "adversarial", *recon_names]
        for d in discriminator_names:
            names += [f"{d}_loss", f"{d}_acc_real", f"{d}_acc_fake"]
        return tuple(names)


def unlisted(inputs):
    """A network's inputs as it was built: the tensor itself for a one-input network, else the list."""
    return inputs[0] if len(inputs) == 1 else inputs

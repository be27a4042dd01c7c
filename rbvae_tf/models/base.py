"""What every model of the zoo shares: networks, latent split, noise, encoders, metric trackers."""

import keras
import tensorflow as tf
from keras import ops

from rbvae_tf import losses
from rbvae_tf.errors import UserError
from rbvae_tf.networks import build_encoder, build_generator

# Adam settings of the paper (Sec. 5.2), for every player of every model.
PAPER_ADAM = {"learning_rate": 1e-4, "beta_1": 0.5, "beta_2": 0.99, "epsilon": 1e-8}


# Constructor arguments that were taken out of the models, with the value that meant "off": each lost every
# ablation it was made for (docs/ablations.md keeps their runs). A saved config holding that value still
# loads (the argument is dropped); any other value is refused.
REMOVED_ARGUMENTS = {
    "weight_kl": 0.0,
    "discriminator_dropout_mode": "element",
    "discriminator_noise": 0.0,
    "reference_transfer_fakes": False,
    "weight_r1": 0.0,
    "weight_domain": 0.0,
    "weight_swap": 0.0,
    "weight_latent_cycle": 0.0,
    "weight_moments": 0.0,
    "ramp_steps": 0,
}


def removed_argument_error(name, value):
    """The UserError (a ValueError) for a removed model argument `name` set to `value`."""
    return UserError(f"model argument {name}={value!r} was removed; see docs/ablations.md")


def without_removed_arguments(config):
    """`config` less the removed arguments (`REMOVED_ARGUMENTS`) that hold their former default.

    Raises:
        UserError (a ValueError) naming the first removed argument that holds any other value.
    """
    for name, default in REMOVED_ARGUMENTS.items():
        value = config.get(name, default)
        if value != default or isinstance(value, bool) != isinstance(default, bool):
            raise removed_argument_error(name, value)
    return {key: value for key, value in config.items() if key not in REMOVED_ARGUMENTS}


@keras.saving.register_keras_serializable(package="rbvae_tf")
class StepAdam(keras.optimizers.Adam):
    """Keras' Adam, with the step's scalars computed once per update instead of once per variable.

    Keras' `Adam.update_step` computes, for every variable, the learning rate, the step count, both
    betas' powers and the bias-corrected rate `alpha` (about a dozen scalar ops, ~1,200 of a step's
    ~4,500 ops for the sRb-VAE's 109 variables). They are the same for every variable of one update, so
    this computes them once per `apply` (per dtype) with the same ops in the same order: the updates are
    bit for bit Keras' (tests/models/test_step_adam.py). Same config, same variables (`m`, `v`) as Adam.
    """

    _step_scalars = None

    def apply(self, grads, trainable_variables=None):
        object.__setattr__(self, "_step_scalars", {})
        try:
            return super().apply(grads, trainable_variables)
        finally:
            object.__setattr__(self, "_step_scalars", None)

    def _alpha(self, learning_rate, dtype):
        """Keras' `lr * sqrt(1 - beta_2 ** t) / (1 - beta_1 ** t)` at step t = iterations + 1."""
        if dtype not in self._step_scalars:
            lr = ops.cast(learning_rate, dtype)
            local_step = ops.cast(self.iterations + 1, dtype)
            beta_1_power = ops.power(ops.cast(self.beta_1, dtype), local_step)
            beta_2_power = ops.power(ops.cast(self.beta_2, dtype), local_step)
            self._step_scalars[dtype] = lr * ops.sqrt(1 - beta_2_power) / (1 - beta_1_power)
        return self._step_scalars[dtype]

    def update_step(self, gradient, variable, learning_rate):
        if self._step_scalars is None or self.amsgrad:  # outside `apply`, or AMSGrad: Keras' own
            return super().update_step(gradient, variable, learning_rate)
        gradient = ops.cast(gradient, variable.dtype)
        alpha = self._alpha(learning_rate, variable.dtype)
        m = self._momentums[self._get_variable_index(variable)]
        v = self._velocities[self._get_variable_index(variable)]
        self.assign_add(m, ops.multiply(ops.subtract(gradient, m), 1 - self.beta_1))
        self.assign_add(v, ops.multiply(ops.subtract(ops.square(gradient), v), 1 - self.beta_2))
        self.assign_sub(variable, ops.divide(ops.multiply(m, alpha), ops.add(ops.sqrt(v), self.epsilon)))


def paper_adam(learning_rate=None):
    """A fresh Adam optimizer with the paper's settings (lr 1e-4, betas (0.5, 0.99), eps 1e-8): `StepAdam`."""
    return StepAdam(**{**PAPER_ADAM, "learning_rate": learning_rate or PAPER_ADAM["learning_rate"]})


class LatentModel(keras.Model):
    """Base of all models: builds the Appendix D encoders and generator and owns the latent split.

    Reference-based models (`reference_based = True`) have two encoders, E for the target factors e
    and Z for the common factors z, a generator G(z, e) and a learned reference target vector e_r
    (a trainable weight). Unsupervised baselines have one encoder over `target_dim + common_dim`
    latents and a generator G(z).

    Subclasses define `train_step` (through the VAE or adversarial base) and `metric_names`.

    Args:
        image_size: int. Side S of the square RGB images, a positive multiple of 16. Defaults to 64.
        width: float. Channel multiplier w of every network. Defaults to 1.0 (the paper).
        target_dim: int. De, latents for the target factors. Defaults to 32.
        common_dim: int. Dz, latents for the common factors. Defaults to 32.
        laplace_scale: float. Scale beta of the Laplace likelihood p(x|z, e). Defaults to 0.01.
        seed: int. Seed of the sampling noise of training. Defaults to 0.
    """

    reference_based = False
    metric_names = ("loss",)
    # The one weighting convention of every model: {logged term: its weight in the loss}, each term logged
    # unweighted. A VAE's term not listed weighs 1; the adversarial models list every term of the model
    # player (`weight_<term>`, `weight_adversarial` for Eq. 8). Weights that the papers name keep the
    # papers' names as arguments (beta_e, beta_z of Rb-VAE) and are mapped here.
    term_weights = {}

    def __init__(self, image_size=64, width=1.0, target_dim=32, common_dim=32, laplace_scale=0.01, seed=0, **kwargs):
        super().__init__(**kwargs)
        # === Layers ===
        if self.reference_based:
            self.target_encoder = build_encoder(image_size, width, target_dim, name="target_encoder")
            self.common_encoder = build_encoder(image_size, width, common_dim, name="common_encoder")
            self.generator = build_generator(image_size, width, [common_dim, target_dim], name="generator")
            self.reference_target = self.add_weight(shape=(target_dim,), initializer="zeros", name="reference_target")
        else:
            self.encoder = build_encoder(image_size, width, target_dim + common_dim, name="encoder")
            self.generator = build_generator(image_size, width, [target_dim + common_dim], name="generator")
        self.trackers = {name: keras.metrics.Mean(name=name) for name in self.metric_names}
        # === Config ===
        self.image_size = image_size
        self.width = width
        self.target_dim = target_dim
        self.common_dim = common_dim
        self.laplace_scale = laplace_scale
        self.seed = seed
        self._noise_calls = 0
        self.built = True

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "image_size": self.image_size,
                "width": self.width,
                "target_dim": self.target_dim,
                "common_dim": self.common_dim,
                "laplace_scale": self.laplace_scale,
                "seed": self.seed,
            }
        )
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        """`cls(**config)`, once the removed arguments at their former default are dropped (a ValueError
        names one that holds another value): configs saved before they were removed keep loading."""
        return super().from_config(without_removed_arguments(config), custom_objects=custom_objects)

    def compile_from_config(self, config):
        """Recompiles a loaded model (with its optimizers) so their saved state can be restored."""
        self.compile(**keras.saving.deserialize_keras_object(config))

    @property
    def metrics(self):
        return list(self.trackers.values())

    def _maybe_symbolic_build(self, iterator=None, data_batch=None):
        """Skips Keras' symbolic build when there is nothing left to build (networks are built in
        `__init__`, optimizers by `training.make_model`). Keras 3.15 first reduces a batch across the
        replicas eagerly there, which fails under MultiWorkerMirroredStrategy ("Attempt to convert a
        value (PerReplica...) ... to a Tensor")."""
        if self.built and self.optimizer is not None and self.optimizer.built:
            return None
        return super()._maybe_symbolic_build(iterator=iterator, data_batch=data_batch)

    def update_trackers(self, values):
        """Adds a step's terms to the running means and returns the means: the step's logs.

        Under MultiWorkerMirroredStrategy each log is returned with shape (1,): Keras 3.15 averages
        a multi-worker step's outputs with `strategy.reduce("MEAN", value, axis=0)`, which fails on
        a scalar ("Invalid reduction dimension 0"), and gives the scalar mean of the shape-(1,) ones.
        """
        for name, value in values.items():
            self.trackers[name].update_state(value)
        logs = {name: tracker.result() for name, tracker in self.trackers.items()}
        if isinstance(tf.distribute.get_strategy(), tf.distribute.MultiWorkerMirroredStrategy):
            logs = {name: ops.reshape(value, (1,)) for name, value in logs.items()}
        return logs

    # --- noise -----------------------------------------------------------------------------------

    def start_step(self):
        """Called at the top of every train step: call sites are counted per step (and per replica)."""
        self._noise_calls = 0

    def sample_noise(self, batch_size, dim):
        """Standard normal noise (batch_size, dim) for this replica's share of the global batch.

        The noise of the whole global batch is drawn from a stateless seed made of `seed`, the step
        counter and the call site, and each replica keeps its own rows. So every replica gets
        different noise, a run is reproducible from its seed (also after resuming), and one step on
        N replicas sees exactly the noise of one step on 1 replica with the same global batch.
        """
        context = tf.distribute.get_replica_context()
        replicas = context.num_replicas_in_sync if context is not None else 1
        replica = context.replica_id_in_sync_group if context is not None else 0
        step = ops.cast(self.optimizer.iterations, "int64") if self.compiled else tf.constant(0, "int64")
        self._noise_calls += 1
        seed = tf.stack([tf.constant(self.seed, "int64"), step * 1024 + self._noise_calls])
        noise = tf.random.stateless_normal((batch_size * replicas, dim), seed=seed)
        return noise[replica * batch_size : (replica + 1) * batch_size]

    def sample_posterior(self, mean, log_var):
        """z ~ N(mean, exp(log_var)) by reparameterisation, with this step's noise."""
        return losses.reparameterize(mean, log_var, self.sample_noise(ops.shape(mean)[0], ops.shape(mean)[1]))

    def infer(self, encoder, images):
        """(mean, log_var, reparameterised sample) of a Gaussian encoder, in training mode."""
        mean, log_var = encoder(images, training=True)
        return mean, log_var, self.sample_posterior(mean, log_var)

    # --- inference API ---------------------------------------------------------------------------

    def encode(self, images, training=False):
        """Posterior of all latents: `{"mean", "log_var"}`, e then z for reference-based models."""
        if not self.reference_based:
            mean, log_var = self.encoder(images, training=training)
            return {"mean": mean, "log_var": log_var}
        e_mean, e_log_var = self.target_encoder(images, training=training)
        z_mean, z_log_var = self.common_encoder(images, training=training)
        return {"mean": ops.concatenate([e_mean, z_mean], -1), "log_var": ops.concatenate([e_log_var, z_log_var], -1)}

    def encode_target(self, images):
        """q(e|x) of the reference-based models: `{"mean", "log_var"}`."""
        require_split(self, "encode_target")
        mean, log_var = self.target_encoder(images, training=False)
        return {"mean": mean, "log_var": log_var}

    def encode_common(self, images):
        """q(z|x) of the reference-based models: `{"mean", "log_var"}`."""
        require_split(self, "encode_common")
        mean, log_var = self.common_encoder(images, training=False)
        return {"mean": mean, "log_var": log_var}

    def generate(self, z, e=None):
        """G(z, e) for reference-based models, G(z) for the unsupervised ones (z = all latents)."""
        z = ops.convert_to_tensor(z, "float32")
        if self.reference_based:
            return self.generator([z, ops.convert_to_tensor(e, "float32")], training=False)
        return self.generator(z, training=False)

    def reference_latent(self, batch_size):
        """e_r repeated batch_size times."""
        return ops.tile(ops.expand_dims(self.reference_target, 0), (batch_size, 1))

    def transfer(self, content, style):
        """Attribute transfer (Sec. 5.4): G(mean z(content), mean e(style))."""
        return self.generate(self.encode_common(content)["mean"], self.encode_target(style)["mean"])

    def reconstruct_reference(self, images):
        """The "reference version" of images: G(mean z(x), e_r)."""
        z = self.encode_common(images)["mean"]
        return self.generate(z, self.reference_latent(ops.shape(z)[0]))

    def call(self, images, training=False):
        """Reconstruction from the posterior means."""
        if not self.reference_based:
            return self.generator(self.encoder(images, training=training)[0], training=training)
        e = self.target_encoder(images, training=training)[0]
        z = self.common_encoder(images, training=training)[0]
        return self.generator([z, e], training=training)


def require_split(model, what):
    """Raises UserError (a ValueError) unless `model` has separate target (e) and common (z) latents."""
    if not model.reference_based:
        raise UserError(
            f"{what} needs a model with an e/z split (target and common latents), e.g. rbvae or "
            f"srbvae; this {type(model).__name__} is unsupervised with a single latent vector"
        )

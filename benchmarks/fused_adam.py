"""An experiment kept to reproduce a measurement: Adam's update as one TensorFlow kernel per variable.

`FusedStepAdam` is `rbvae_tf.models.base.StepAdam` whose update of each variable is one `ResourceApplyAdam`
kernel (m, v and the variable in one op instead of ~16), fed the raw learning rate and the step's beta powers
computed once per `apply`. It halves the ops of the sRb-VAE's step at 32 px (3,364 -> 1,719, counted by
`benchmarks/profile_step.py --fused-adam`) but is not faster: that step is convolution-bound. So it is not in
the library; this script times both:

    python benchmarks/fused_adam.py --adam fused --steps 150 --warmup 10
    python benchmarks/fused_adam.py --adam step --steps 150 --warmup 10

Each prints one line, `ADAM MEDIAN_SECONDS_PER_STEP`: the sRb-VAE at 32 px, width 0.5, batch 36, XLA off
(`rbvae_tf.benchmarks.time_steps`), both players' Adams of the chosen class with the same config.

It is not bit for bit Keras' Adam: the kernel computes `1 - beta_2` in float32 (0.99 -> 0.0099999905) where
Keras rounds Python's `1 - 0.99` (0.0099999998), so `v` differs by ~1e-6 relative and the variables by about
an ulp (m is the same: `1 - 0.5` is exact; with a `beta_2` whose `1 - beta_2` is exact in float32, such as
0.875, all three agree bit for bit; tests/benchmarks/test_fused_adam.py). AMSGrad and updates outside `apply`
take Keras' own path.
"""

import argparse
import contextlib
import pathlib
import sys

REPO = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import keras  # noqa: E402
import tensorflow as tf  # noqa: E402
from keras import ops  # noqa: E402

from rbvae_tf.models.base import StepAdam  # noqa: E402

OPTIMIZERS = ("optimizer", "discriminator_optimizer")  # a model's Adams (the VAE has the first only)


@keras.saving.register_keras_serializable(package="benchmarks")
class FusedStepAdam(StepAdam):
    """StepAdam with each variable's update one `ResourceApplyAdam` kernel. Same config and variables.

    Example:
    >>> optimizer = FusedStepAdam(learning_rate=1e-4, beta_1=0.5, beta_2=0.99, epsilon=1e-8)
    >>> type(FusedStepAdam.from_config(optimizer.get_config())).__name__
    'FusedStepAdam'
    """

    def _fused_scalars(self, learning_rate, dtype):
        """The kernel's scalar inputs at step t = iterations + 1: beta_1 ** t, beta_2 ** t (as Keras computes
        them), the raw learning rate, beta_1, beta_2 and epsilon; once per `apply` and dtype."""
        key = ("fused", dtype)
        if key not in self._step_scalars:
            local_step = ops.cast(self.iterations + 1, dtype)
            beta_1_power = ops.power(ops.cast(self.beta_1, dtype), local_step)
            beta_2_power = ops.power(ops.cast(self.beta_2, dtype), local_step)
            constants = [ops.cast(x, dtype) for x in (learning_rate, self.beta_1, self.beta_2, self.epsilon)]
            self._step_scalars[key] = (beta_1_power, beta_2_power, *constants)
        return self._step_scalars[key]

    def update_step(self, gradient, variable, learning_rate):
        if self._step_scalars is None or self.amsgrad:  # outside `apply`, or AMSGrad: Keras' own
            return super().update_step(gradient, variable, learning_rate)
        gradient = ops.cast(gradient, variable.dtype)
        m = self._momentums[self._get_variable_index(variable)]
        v = self._velocities[self._get_variable_index(variable)]
        beta_1_power, beta_2_power, lr, beta_1, beta_2, epsilon = self._fused_scalars(learning_rate, variable.dtype)
        # the tf.Variables' handles (inside a strategy's `update`, the handles of this device's copies)
        var, m, v = (x.value.handle if isinstance(x, keras.Variable) else x.handle for x in (variable, m, v))
        return tf.raw_ops.ResourceApplyAdam(
            var=var,
            m=m,
            v=v,
            beta1_power=beta_1_power,
            beta2_power=beta_2_power,
            lr=lr,
            beta1=beta_1,
            beta2=beta_2,
            epsilon=epsilon,
            grad=gradient,
            use_locking=False,
            use_nesterov=False,
        )


def with_adams(model, adam_class):
    """`model` recompiled with each of its Adams replaced by `adam_class` of the same config (rates, schedules)."""
    names = [name for name in OPTIMIZERS if hasattr(model, name)]
    adams = {name: adam_class.from_config(getattr(model, name).get_config()) for name in names}
    model.compile(jit_compile=model.jit_compile, **adams)
    return model


@contextlib.contextmanager
def models_with_adams(adam_class):
    """Inside: `rbvae_tf.training.make_model` (which `time_steps` imports when it runs) returns its model
    `with_adams(model, adam_class)`."""
    from rbvae_tf import training

    make_model = training.make_model
    training.make_model = lambda *args, **kwargs: with_adams(make_model(*args, **kwargs), adam_class)
    try:
        yield
    finally:
        training.make_model = make_model


def main():
    from rbvae_tf.benchmarks import time_steps
    from rbvae_tf.config import FitConfig

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--adam", choices=["fused", "step"], default="fused", help="FusedStepAdam or StepAdam")
    parser.add_argument("--steps", type=int, default=150, help="timed steps")
    parser.add_argument("--warmup", type=int, default=10, help="untimed steps first (tracing)")
    args = parser.parse_args()
    config = FitConfig(model="srbvae", image_size=32, width=0.5, jit=False)
    with models_with_adams(FusedStepAdam if args.adam == "fused" else StepAdam):
        seconds = time_steps(config, steps=args.steps, warmup=args.warmup)
    print(f"{args.adam} {seconds:.6f}")


if __name__ == "__main__":
    main()

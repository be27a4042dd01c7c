import keras
from keras import ops


@keras.saving.register_keras_serializable(package="rbvae_tf")
class PixelNorm(keras.layers.Layer):
    """Pixel-wise ("channel") normalisation of Karras et al. (2018), used in Appendix D.

    Each pixel's feature vector is divided by its root mean square over channels:
    `x / sqrt(mean_c(x^2) + epsilon)`. It has no weights and no batch statistics, so it behaves the
    same in training and inference and on any split of a batch across replicas.

    The forward pass is the formula's own ops; the gradient is written by hand (`pixel_norm`).

    Args:
        epsilon: float. Added under the square root. Defaults to `1e-8`.

    Example:
    >>> y = PixelNorm()(keras.ops.ones((2, 4, 4, 3)) * 5.0)
    >>> tuple(y.shape), float(keras.ops.max(keras.ops.abs(y - 1.0))) < 1e-6
    ((2, 4, 4, 3), True)
    """

    def __init__(self, epsilon=1e-8, **kwargs):
        super().__init__(**kwargs)
        # === Config ===
        self.epsilon = epsilon

    def call(self, inputs):
        return pixel_norm(inputs, self.epsilon)

    def get_config(self):
        config = super().get_config()
        config.update({"epsilon": self.epsilon})
        return config


def pixel_norm(x, epsilon):
    """`y = x * r` with `r = rsqrt(mean_c(x^2) + epsilon)` over the last axis, with a hand-written gradient.

    With `m = mean_c(x^2)`, `dr/dx_j = -r^3 x_j / C`, so the gradient at x of an upstream gradient g is
    `r g - x r^3 mean_c(g x)`, which is exactly `r (g - y mean_c(g y))` (r is one number per pixel, so
    `mean_c(g y) = r mean_c(g x)`): epsilon enters only through r. That is four element-wise ops and one
    mean on tensors the forward pass already holds (y and r), where autodiff of the formula builds the
    gradients of the Mul, Rsqrt, AddV2, Mean and Square with their broadcasting reductions. The forward ops
    are the formula's, so the values are the same bit for bit; the gradient is built from differentiable
    ops (Mul, Mean, Sub), so gradients of gradients still work, and from ops that `runtime.set_precision`
    keeps in fp32 under bf16 mixed precision, like the forward's.
    """

    @ops.custom_gradient
    def forward(x):
        r = ops.rsqrt(ops.mean(ops.square(x), axis=-1, keepdims=True) + epsilon)
        y = x * r

        def grad(*args, upstream=None):
            if upstream is None:  # TensorFlow and JAX pass the upstream gradient positionally
                (upstream,) = args
            return r * (upstream - y * ops.mean(upstream * y, axis=-1, keepdims=True))

        return y, grad

    return forward(x)

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="rbvae_tf")
class PixelNorm(keras.layers.Layer):
    """Pixel-wise ("channel") normalisation of Karras et al. (2018), used in Appendix D.

    Each pixel's feature vector is divided by its root mean square over channels:
    `x / sqrt(mean_c(x^2) + epsilon)`. It has no weights and no batch statistics, so it behaves the
    same in training and inference and on any split of a batch across replicas.

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
        return inputs * ops.rsqrt(ops.mean(ops.square(inputs), axis=-1, keepdims=True) + self.epsilon)

    def get_config(self):
        config = super().get_config()
        config.update({"epsilon": self.epsilon})
        return config

"""Building blocks shared by the encoder, generator and discriminator (Appendix D)."""

import keras
import tensorflow as tf

from rbvae_tf.data.checks import check_size
from rbvae_tf.networks.pixel_norm import PixelNorm

BASE_CHANNELS = (32, 64, 128, 256)


def channels(base, width):
    """Channels of a layer with `base` channels at full width, scaled by the width multiplier."""
    return max(1, int(round(base * width)))


def leaky_relu_from_output(x, slope):
    """LeakyReLU whose gradient is computed from its output: `LeakyReluGrad(dy, y)`, not `(dy, x)`.

    The same values and gradients as `tf.nn.leaky_relu` (y > 0 exactly where x > 0 for a slope > 0).
    Reading y is what lets Grappler's remapper fuse Conv2D/MatMul + BiasAdd + LeakyRelu in a training
    graph: the stock gradient reads the BiasAdd output, which the fusion removes, so the remapper
    printed `E0000 ... remapper failed: ... fanout '.../LeakyReluGrad' exist for missing node
    '.../BiasAdd'` and left the whole train step unfused.
    """

    @tf.custom_gradient
    def leaky_relu(features):
        y = tf.nn.leaky_relu(features, alpha=slope)
        return y, lambda dy: tf.raw_ops.LeakyReluGrad(gradients=dy, features=y, alpha=slope)

    return leaky_relu(x)


@keras.saving.register_keras_serializable(package="rbvae_tf")
class MaxLeakyReLU(keras.layers.LeakyReLU):
    """The discriminator's LeakyReLU, with its gradient computed from its output (`leaky_relu_from_output`).

    Used where a LeakyReLU directly follows a convolution or dense layer (the discriminator, which
    has no pixel norm), so that TensorFlow's remapper can fuse it into the convolution without the
    `remapper failed` error of the stock layer. The name is kept from its first version, which
    computed `max(x, negative_slope * x)` (a Maximum whose Select-based gradient cost about 15 % of
    an sRb-VAE step), so that saved models load unchanged; it has no weights and each layer keeps
    the name of the layer it replaces. Values and gradients equal `keras.layers.LeakyReLU`'s.

    Example:
    >>> MaxLeakyReLU(0.2)(keras.ops.convert_to_tensor([-1.0, 0.0, 2.0])).numpy().tolist()
    [-0.20000000298023224, 0.0, 2.0]
    """

    def call(self, inputs):
        return leaky_relu_from_output(inputs, self.negative_slope)


def spectral(layer, spectral_norm):
    """`layer`, wrapped in `keras.layers.SpectralNormalization` (same name + "_sn") when `spectral_norm`."""
    if not spectral_norm:
        return layer
    return keras.layers.SpectralNormalization(layer, name=f"{layer.name}_sn")


def conv_block(x, filters, pixel_norm, name, spectral_norm=False):
    """3x3 conv -> (pixel norm) -> LeakyReLU 0.2 (`MaxLeakyReLU` right after the conv)."""
    x = spectral(keras.layers.Conv2D(filters, 3, padding="same", name=f"{name}_conv"), spectral_norm)(x)
    if pixel_norm:
        x = PixelNorm(name=f"{name}_pn")(x)
        return keras.layers.LeakyReLU(0.2, name=f"{name}_lrelu")(x)
    return MaxLeakyReLU(0.2, name=f"{name}_lrelu")(x)


def down_trunk(images, width, pixel_norm, prefix, spectral_norm=False):
    """The encoder/discriminator trunk: four stages of convs separated by 2x2 average pooling.

    conv(32), pool, conv(32), conv(64), pool, conv(64), conv(128), pool, conv(128), conv(256), pool,
    conv(256); all channels scaled by `width`. Output: (S/16, S/16, 256w) features. With
    `spectral_norm` every conv is spectrally normalised (`spectral`).
    """
    c32, c64, c128, c256 = (channels(c, width) for c in BASE_CHANNELS)
    plan = [c32, "pool", c32, c64, "pool", c64, c128, "pool", c128, c256, "pool", c256]
    x = images
    for i, step in enumerate(plan):
        if step == "pool":
            x = keras.layers.AveragePooling2D(2, name=f"{prefix}_pool{i}")(x)
        else:
            x = conv_block(x, step, pixel_norm, name=f"{prefix}_{i}", spectral_norm=spectral_norm)
    return x


def check_image_size(image_size):
    """A UserError (a ValueError) unless image_size is a positive multiple of 16 (`data.checks.check_size`)."""
    return check_size(image_size, "image_size")

"""Building blocks shared by the encoder, generator and discriminator (Appendix D)."""

import keras
from keras import ops

from rbvae_tf.data.checks import check_size
from rbvae_tf.networks.pixel_norm import PixelNorm

BASE_CHANNELS = (32, 64, 128, 256)


def channels(base, width):
    """Channels of a layer with `base` channels at full width, scaled by the width multiplier."""
    return max(1, int(round(base * width)))


@keras.saving.register_keras_serializable(package="rbvae_tf")
class MaxLeakyReLU(keras.layers.LeakyReLU):
    """LeakyReLU computed as `max(x, negative_slope * x)`: the same function for 0 <= slope <= 1.

    Used where a LeakyReLU directly follows a convolution or dense layer (the discriminator, which
    has no pixel norm). TensorFlow's Grappler remapper fuses Conv2D/MatMul + BiasAdd + LeakyRelu
    into one op and deletes the BiasAdd node that the LeakyReluGrad of a training graph still
    reads; it then logs `E0000 ... remapper failed: INVALID_ARGUMENT: Mutation::Apply error: fanout
    '.../LeakyReluGrad' exist for missing node '.../BiasAdd'` and leaves the whole train step
    without any remapper fusion. `Maximum` and `Mul` do not match that pattern. The layer has no
    weights and keeps the name of the layer it replaces, so saved weights load unchanged. The
    gradients agree everywhere except at exactly x = 0 (1 here, `negative_slope` for LeakyRelu).

    Example:
    >>> MaxLeakyReLU(0.2)(keras.ops.convert_to_tensor([-1.0, 0.0, 2.0])).numpy().tolist()
    [-0.20000000298023224, 0.0, 2.0]
    """

    def call(self, inputs):
        return ops.maximum(inputs, self.negative_slope * inputs)


def conv_block(x, filters, pixel_norm, name):
    """3x3 conv -> (pixel norm) -> LeakyReLU 0.2 (`MaxLeakyReLU` right after the conv)."""
    x = keras.layers.Conv2D(filters, 3, padding="same", name=f"{name}_conv")(x)
    if pixel_norm:
        x = PixelNorm(name=f"{name}_pn")(x)
        return keras.layers.LeakyReLU(0.2, name=f"{name}_lrelu")(x)
    return MaxLeakyReLU(0.2, name=f"{name}_lrelu")(x)


def down_trunk(images, width, pixel_norm, prefix):
    """The encoder/discriminator trunk: four stages of convs separated by 2x2 average pooling.

    conv(32), pool, conv(32), conv(64), pool, conv(64), conv(128), pool, conv(128), conv(256), pool,
    conv(256); all channels scaled by `width`. Output: (S/16, S/16, 256w) features.
    """
    c32, c64, c128, c256 = (channels(c, width) for c in BASE_CHANNELS)
    plan = [c32, "pool", c32, c64, "pool", c64, c128, "pool", c128, c256, "pool", c256]
    x = images
    for i, step in enumerate(plan):
        if step == "pool":
            x = keras.layers.AveragePooling2D(2, name=f"{prefix}_pool{i}")(x)
        else:
            x = conv_block(x, step, pixel_norm, name=f"{prefix}_{i}")
    return x


def check_image_size(image_size):
    """A UserError (a ValueError) unless image_size is a positive multiple of 16 (`data.checks.check_size`)."""
    return check_size(image_size, "image_size")

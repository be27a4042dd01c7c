import keras

from rbvae_tf.networks.blocks import BASE_CHANNELS, channels, check_image_size, conv_block
from rbvae_tf.networks.pixel_norm import PixelNorm


def build_generator(image_size, width, latent_dims, name="generator"):
    """Generator G of Appendix D: the mean of the Laplace likelihood p(x|z, e).

    Inputs are the latent vectors (for the Rb models `[z, e]`, for the VAE family a single `[z]`),
    concatenated, mapped by a dense layer to (S/16, S/16, 256w), then pixel norm + LeakyReLU,
    conv(256), conv(128), x2 nearest, conv(128), conv(64), x2, conv(64), conv(32), x2, conv(32), x2,
    conv3x3(3), tanh. Output images are in [-1, 1].

    Args:
        image_size: int. S, a positive multiple of 16.
        width: float. Channel multiplier w.
        latent_dims: list of int. Sizes of the latent inputs, in order (e.g. `[Dz, De]`).
        name: str. Defaults to `"generator"`.

    Example:
    >>> gen = build_generator(16, 0.125, [4, 2])
    >>> gen([keras.ops.zeros((2, 4)), keras.ops.zeros((2, 2))]).shape
    TensorShape([2, 16, 16, 3])
    """
    with keras.name_scope(name):  # unique weight paths: <network name>/<layer>/<weight>
        check_image_size(image_size)
        c32, c64, c128, c256 = (channels(c, width) for c in BASE_CHANNELS)
        names = ["z", "e"] if len(latent_dims) == 2 else [f"latent{i}" for i in range(len(latent_dims))]
        inputs = [keras.Input((d,), name=n) for d, n in zip(latent_dims, names)]
        x = inputs[0] if len(inputs) == 1 else keras.layers.Concatenate(name="concat")(inputs)
        base = image_size // 16
        x = keras.layers.Dense(base * base * c256, name="fc")(x)
        x = keras.layers.Reshape((base, base, c256), name="reshape")(x)
        x = PixelNorm(name="fc_pn")(x)
        x = keras.layers.LeakyReLU(0.2, name="fc_lrelu")(x)
        plan = [c256, c128, "up", c128, c64, "up", c64, c32, "up", c32, "up"]
        for i, step in enumerate(plan):
            if step == "up":
                x = keras.layers.UpSampling2D(2, interpolation="nearest", name=f"gen_up{i}")(x)
            else:
                x = conv_block(x, step, pixel_norm=True, name=f"gen_{i}")
        x = keras.layers.Conv2D(3, 3, padding="same", name="to_rgb")(x)
        images = keras.layers.Activation("tanh", name="tanh")(x)
        return keras.Model(inputs, images, name=name)

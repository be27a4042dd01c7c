import keras

from rbvae_tf.networks.blocks import check_image_size, down_trunk


def build_encoder(image_size, width, latent_dim, name="encoder"):
    """Gaussian encoder q(.|x) of Appendix D: returns a functional `keras.Model`.

    images (B, S, S, 3) in [-1, 1] -> [mean (B, D), log_var (B, D)].
    Trunk: 3x3 convs with pixel norm and LeakyReLU 0.2, 2x2 average pooling down to S/16, then two
    fully connected heads.

    Args:
        image_size: int. S, a positive multiple of 16.
        width: float. Channel multiplier w: channels are w * (32, 64, 128, 256).
        latent_dim: int. D, size of the latent vector.
        name: str. Name of the model. Defaults to `"encoder"`.

    Example:
    >>> enc = build_encoder(16, 0.125, 4)
    >>> [t.shape for t in enc(keras.ops.zeros((2, 16, 16, 3)))]
    [TensorShape([2, 4]), TensorShape([2, 4])]
    """
    with keras.name_scope(name):  # unique weight paths: <network name>/<layer>/<weight>
        check_image_size(image_size)
        images = keras.Input((image_size, image_size, 3), name="images")
        x = down_trunk(images, width, pixel_norm=True, prefix="enc")
        x = keras.layers.Flatten(name="flatten")(x)
        mean = keras.layers.Dense(latent_dim, name="mean")(x)
        log_var = keras.layers.Dense(latent_dim, name="log_var")(x)
        return keras.Model(images, [mean, log_var], name=name)

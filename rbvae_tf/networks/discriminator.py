import keras

from rbvae_tf.networks.blocks import MaxLeakyReLU, check_image_size, down_trunk, spectral


def build_discriminator(image_size, width, latent_dims, dropout=0.25, name="discriminator", spectral_norm=False):
    """Discriminator d(x, z, e) of Appendix D, returning a logit that estimates log q/p (Eq. 7).

    The image goes through the encoder trunk without pixel norm, then dense(64)-LeakyReLU; each
    latent through dense(32)-LeakyReLU; the concatenation is dropped out with rate `dropout`
    (the paper zeroes inputs of the last fully connected block with p=0.25 so the discriminator
    cannot ignore the latents), then dense(128)-LeakyReLU and a linear dense(1).
    d'(x, z) is the same network with a single latent input.

    Args:
        image_size: int. S, a positive multiple of 16.
        width: float. Channel multiplier w.
        latent_dims: list of int. Sizes of the latent inputs, e.g. `[Dz, De]` for d, `[Dz]` for d'.
        dropout: float. Rate of the dropout before the last block. Defaults to `0.25`.
        name: str. Defaults to `"discriminator"`.
        spectral_norm: bool. Every conv and dense layer spectrally normalised (Miyato et al. 2018),
            so that d is about 1-Lipschitz (beyond the paper). Defaults to False.

    Example:
    >>> d = build_discriminator(16, 0.125, [4])
    >>> d([keras.ops.zeros((2, 16, 16, 3)), keras.ops.zeros((2, 4))]).shape
    TensorShape([2, 1])
    """
    with keras.name_scope(name):  # unique weight paths: <network name>/<layer>/<weight>
        check_image_size(image_size)
        images = keras.Input((image_size, image_size, 3), name="images")
        names = (
            ["z", "e"][: len(latent_dims)] if len(latent_dims) <= 2 else [f"latent{i}" for i in range(len(latent_dims))]
        )
        latents = [keras.Input((d,), name=n) for d, n in zip(latent_dims, names)]
        x = down_trunk(images, width, pixel_norm=False, prefix="disc", spectral_norm=spectral_norm)
        x = keras.layers.Flatten(name="flatten")(x)

        def dense(units, layer_name):
            return spectral(keras.layers.Dense(units, name=layer_name), spectral_norm)

        features = [MaxLeakyReLU(0.2, name="image_lrelu")(dense(64, "image_fc")(x))]
        for n, latent in zip(names, latents):
            h = dense(32, f"{n}_fc")(latent)
            features.append(MaxLeakyReLU(0.2, name=f"{n}_lrelu")(h))
        h = keras.layers.Concatenate(name="concat")(features)
        h = keras.layers.Dropout(dropout, name="dropout")(h)
        h = MaxLeakyReLU(0.2, name="fc_lrelu")(dense(128, "fc")(h))
        logit = dense(1, "logit")(h)
        return keras.Model([images, *latents], logit, name=name)

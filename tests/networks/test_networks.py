import keras
import numpy as np
import pytest

from rbvae_tf.networks import PixelNorm, build_discriminator, build_encoder, build_generator


def test_pixel_norm_unit_rms_per_pixel():
    x = np.random.default_rng(0).normal(size=(2, 3, 3, 5)).astype(np.float32) * 7.0
    y = np.asarray(PixelNorm()(x))
    np.testing.assert_allclose(np.sqrt((y**2).mean(-1)), 1.0, rtol=1e-4)
    assert PixelNorm.from_config(PixelNorm(epsilon=1e-3).get_config()).epsilon == 1e-3


def test_encoder_shapes_and_widths():
    enc = build_encoder(32, 0.25, 6)
    mean, log_var = enc(np.zeros((3, 32, 32, 3), np.float32))
    assert mean.shape == (3, 6) and log_var.shape == (3, 6)
    convs = [l for l in enc.layers if isinstance(l, keras.layers.Conv2D)]
    assert [c.filters for c in convs] == [8, 8, 16, 16, 32, 32, 64, 64]
    assert sum(isinstance(l, keras.layers.AveragePooling2D) for l in enc.layers) == 4
    assert sum(isinstance(l, PixelNorm) for l in enc.layers) == 8


def test_generator_output_range_and_shape():
    gen = build_generator(32, 0.25, [5, 3])
    rng = np.random.default_rng(0)
    out = np.asarray(gen([rng.normal(size=(4, 5)) * 10, rng.normal(size=(4, 3)) * 10]))
    assert out.shape == (4, 32, 32, 3)
    assert out.min() >= -1.0 and out.max() <= 1.0
    assert sum(isinstance(l, keras.layers.UpSampling2D) for l in gen.layers) == 4


def test_discriminator_dropout_only_in_training():
    rate = 0.25
    d = build_discriminator(16, 0.125, [4, 2], dropout=rate)
    assert [l.rate for l in d.layers if isinstance(l, keras.layers.Dropout)] == [rate]
    assert not any(isinstance(l, PixelNorm) for l in d.layers)
    rng = np.random.default_rng(0)
    inputs = [
        rng.uniform(-1, 1, (64, 16, 16, 3)).astype(np.float32),
        rng.normal(size=(64, 4)).astype(np.float32),
        rng.normal(size=(64, 2)).astype(np.float32),
    ]
    # The dropout acts on the concatenated image and latent features, before the last block (App. D).
    features = keras.Model(d.inputs, d.get_layer("dropout").output)
    kept = np.asarray(features(inputs, training=False))
    dropped = np.asarray(features(inputs, training=True))
    assert kept.shape == (64, 64 + 32 + 32) and np.all(kept != 0)
    zeroed = dropped == 0
    assert abs(zeroed.mean() - rate) < 0.03  # 8192 features: the standard error is 0.005
    np.testing.assert_allclose(dropped[~zeroed], kept[~zeroed] / (1 - rate), rtol=1e-5)
    # Inference is deterministic; training draws a new mask each call.
    np.testing.assert_array_equal(d(inputs, training=False), d(inputs, training=False))
    assert not np.array_equal(d(inputs, training=True), d(inputs, training=True))
    assert not np.array_equal(d(inputs, training=True), d(inputs, training=False))
    assert d(inputs).shape == (64, 1)
    no_dropout = build_discriminator(16, 0.125, [4, 2], dropout=0.0)
    np.testing.assert_allclose(no_dropout(inputs, training=True), no_dropout(inputs, training=False), rtol=1e-6)


def test_bad_image_size():
    with pytest.raises(ValueError, match="multiple of 16"):
        build_encoder(24, 1.0, 4)

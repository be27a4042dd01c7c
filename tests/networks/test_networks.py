import keras
import numpy as np
import pytest

from rbvae_tf.networks import PixelNorm, build_discriminator, build_encoder, build_generator


def test_pixel_norm_unit_rms_per_pixel():
    x = np.random.default_rng(0).normal(size=(2, 3, 3, 5)).astype(np.float32) * 7.0
    y = np.asarray(PixelNorm()(x))
    np.testing.assert_allclose(np.sqrt((y ** 2).mean(-1)), 1.0, rtol=1e-4)
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
    d = build_discriminator(16, 0.125, [4, 2], dropout=0.25)
    assert [l.rate for l in d.layers if isinstance(l, keras.layers.Dropout)] == [0.25]
    assert not any(isinstance(l, PixelNorm) for l in d.layers)
    inputs = [np.ones((2, 16, 16, 3), np.float32), np.ones((2, 4), np.float32), np.ones((2, 2), np.float32)]
    np.testing.assert_allclose(d(inputs, training=False), d(inputs, training=False))
    assert d(inputs).shape == (2, 1)


def test_bad_image_size():
    with pytest.raises(ValueError, match="multiple of 16"):
        build_encoder(24, 1.0, 4)

"""Batched image operations of the MNIST-style build, checked against known values."""

import numpy as np
import pytest
import tensorflow as tf

from rbvae_tf.data import render
from tests.conftest import MNIST_NPZ


def test_bilinear_matrix_matches_tf_resize():
    image = np.random.default_rng(0).random((28, 28)).astype(np.float32)
    matrix = render.bilinear_matrix(28, 64)
    expected = tf.image.resize(image[None, :, :, None], [64, 64], method="bilinear")[0, :, :, 0]
    np.testing.assert_allclose(matrix @ image @ matrix.T, expected.numpy(), atol=1e-5)


def test_area_matrices():
    identity = render.area_matrices(64, 64, [1.0])[0]
    np.testing.assert_allclose(identity, np.eye(64), atol=1e-6)
    images = np.random.default_rng(0).random((2, 64, 64)).astype(np.float32)
    halved = render.resample(images, render.area_matrices(64, 32, [0.5, 0.5]))
    block_mean = images.reshape(2, 32, 2, 32, 2).mean(axis=(2, 4))
    np.testing.assert_allclose(halved, block_mean, atol=1e-5)
    # Shrinking about the centre keeps the size, pads with zeros and keeps the mass times s^2.
    scales = np.array([0.5, 0.75, 0.9])
    shrunk = render.resample(np.ones((3, 64, 64), np.float32), render.area_matrices(64, 64, scales))
    np.testing.assert_allclose(shrunk.sum(axis=(1, 2)), 64**2 * scales**2, rtol=1e-4)
    assert shrunk[0, 0, 0] == 0 and shrunk[0, 16:48, 16:48].min() > 0.999
    np.testing.assert_allclose(shrunk, shrunk[:, ::-1, ::-1], atol=1e-5)  # centred


def test_edges_of_square():
    masks = np.zeros((1, 10, 10), bool)
    masks[0, 2:8, 2:8] = True
    outline = render.edges(masks)
    assert outline.sum() == 4 * (6 - 1)
    assert not outline[0, 3:7, 3:7].any() and outline[0, 2, 2:8].all()
    assert not render.edges(np.zeros((2, 5, 5), bool)).any()


@pytest.mark.parametrize("width", range(1, 11))
def test_dilate_point_gives_square(width):
    dot = np.zeros((1, 25, 25), bool)
    dot[0, 12, 12] = True
    grown = render.dilate(dot, [width])[0]
    rows, cols = np.nonzero(grown)
    assert grown.sum() == width**2
    assert rows.max() - rows.min() + 1 == width and cols.max() - cols.min() + 1 == width
    assert rows.min() == 12 - (width - 1) // 2


def test_dilate_matches_brute_force():
    rng = np.random.default_rng(0)
    masks = rng.random((40, 20, 20)) > 0.97
    widths = rng.integers(1, 11, 40)
    expected = np.zeros_like(masks)
    for n, width in enumerate(widths):
        padded = np.pad(masks[n], 10)
        for dy in range(-((width - 1) // 2), width // 2 + 1):
            for dx in range(-((width - 1) // 2), width // 2 + 1):
                expected[n] |= padded[10 - dy : 30 - dy, 10 - dx : 30 - dx]
    np.testing.assert_array_equal(render.dilate(masks, widths), expected)


def test_colourise():
    grey = np.array([[[1.0, 0.5]]], np.float32)
    rgb = render.colourise(grey, [[1.0, 0.5, 0.0]])
    assert rgb.dtype == np.uint8
    assert rgb[0, 0, 0].tolist() == [255, 128, 0] and rgb[0, 0, 1].tolist() == [128, 64, 0]


def test_render_sizes_agree():
    with np.load(MNIST_NPZ) as npz:
        digits = npz["x_test"][:20]
    rng = np.random.default_rng(1)
    colours, scales, widths = rng.random((20, 3)), rng.uniform(0.5, 1, 20), rng.integers(1, 11, 20)
    big = render.render_digits(digits, colours, scales, widths, 64).astype(float)
    small = render.render_digits(digits, colours, scales, widths, 32).astype(float)
    # The factor means the same at every size: 32 px is the 2x2 mean of 64 px (up to rounding).
    np.testing.assert_allclose(small, big.reshape(20, 32, 2, 32, 2, 3).mean(axis=(2, 4)), atol=1.01)

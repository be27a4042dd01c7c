"""MNIST-style build: splits, factor distributions, faithful images, determinism, bad input."""

import numpy as np
import pytest

from rbvae_tf.data import mnist_style
from rbvae_tf.data.mnist import load_mnist
from rbvae_tf.data.render import digit_masks, edges
from rbvae_tf.errors import UserError

LIMIT = 300


@pytest.fixture(scope="module")
def mnist():
    return load_mnist()


@pytest.fixture(scope="module")
def splits(mnist):
    return mnist_style.build_mnist_style(mnist, size=32, seed=0, limit=LIMIT)


def test_split_layout(splits):
    assert list(splits) == ["reference", "unlabelled", "probe_train", "probe_test"]
    for split in splits.values():
        assert split["images"].shape == (LIMIT, 32, 32, 3) and split["images"].dtype == np.uint8
        assert split["factors"].shape == (LIMIT, 5) and split["factors"].dtype == np.float32
        assert split["labels"].shape == (LIMIT,) and split["labels"].dtype == np.int64
        assert split["factor_names"] == ["R", "G", "B", "scale", "width"]


def test_sampled_factor_distributions():
    factors = mnist_style.sample_factors(20000, np.random.default_rng(0))
    colour, scale, width = factors[:, :3], factors[:, 3], factors[:, 4]
    np.testing.assert_allclose(colour.sum(axis=1), 1, atol=1e-6)
    assert colour.min() >= 0 and colour.max() > 0.9
    assert 0.5 <= scale.min() < 0.51 and 0.99 < scale.max() <= 1
    assert abs(scale.mean() - 0.75) < 0.01
    assert sorted(np.unique(width)) == list(range(1, 11))
    counts = np.bincount(width.astype(int))[1:]
    assert counts.min() > 0.09 * 20000 and counts.max() < 0.11 * 20000


def test_built_factor_ranges(splits):
    for name in ("unlabelled", "probe_train", "probe_test"):
        factors = splits[name]["factors"]
        np.testing.assert_allclose(factors[:, :3].sum(axis=1), 1, atol=1e-6)
        assert factors[:, 3].min() >= 0.5 and factors[:, 3].max() <= 1
        assert set(np.unique(factors[:, 4])) == set(range(1, 11))


def test_reference_is_white_untransformed_outline(mnist, splits):
    reference = splits["reference"]
    np.testing.assert_allclose(reference["factors"], [[1 / 3, 1 / 3, 1 / 3, 1, 1]] * LIMIT)
    np.testing.assert_array_equal(reference["labels"], mnist["y_train"][:LIMIT])
    big = mnist_style.build_mnist_style(mnist, size=64, limit=5)["reference"]["images"]
    assert (big[..., 0] == big[..., 1]).all() and (big[..., 0] == big[..., 2]).all()
    assert set(np.unique(big)) == {0, 255}
    np.testing.assert_array_equal(big[..., 0] == 255, edges(digit_masks(mnist["x_train"][:5])))
    images = reference["images"]
    assert (images[..., 0] == images[..., 1]).all() and (images[..., 1] == images[..., 2]).all()


def test_unlabelled_pairs_come_from_second_half(mnist, splits):
    labels = splits["unlabelled"]["labels"]
    np.testing.assert_array_equal(labels, mnist["y_train"][30000 + np.arange(LIMIT) // 2])
    images = splits["unlabelled"]["images"]
    assert not np.array_equal(images[0], images[1])  # two different transformations


def test_images_follow_factors(splits):
    unlabelled = splits["unlabelled"]
    images, factors = unlabelled["images"].astype(float), unlabelled["factors"]
    # Colour: every pixel is the grey outline times c, so channel totals are proportional to c.
    totals = images.sum(axis=(1, 2))
    shares = totals / totals.sum(axis=1, keepdims=True)
    bright = factors[:, :3].min(axis=1) > 0.1
    np.testing.assert_allclose(shares[bright], factors[bright, :3], atol=0.02)
    # Scale and width: the drawn area grows with both.
    area = (images.max(axis=3) > 0).sum(axis=(1, 2))
    assert np.corrcoef(area, factors[:, 3])[0, 1] > 0.3
    assert np.corrcoef(area, factors[:, 4])[0, 1] > 0.5
    rows = np.nonzero((images.max(axis=3) > 0).any(axis=2))
    height = np.zeros(len(images))
    np.maximum.at(height, rows[0], rows[1])
    low = np.full(len(images), 99.0)
    np.minimum.at(low, rows[0], rows[1])
    assert np.corrcoef(height - low, factors[:, 3])[0, 1] > 0.4


def test_probe_halves_are_disjoint():
    rng = np.random.default_rng(0)
    fake = {
        "x_train": rng.integers(0, 256, (4, 28, 28), dtype=np.uint8),
        "y_train": np.arange(4, dtype=np.uint8),
        "x_test": rng.integers(0, 256, (10, 28, 28), dtype=np.uint8),
        "y_test": np.arange(10, dtype=np.uint8),
    }
    splits = mnist_style.build_mnist_style(fake, size=16)
    train, test = splits["probe_train"]["labels"], splits["probe_test"]["labels"]
    assert len(train) == len(test) == 5
    assert sorted(np.concatenate([train, test])) == list(range(10))
    assert len(splits["reference"]["labels"]) == 2 and len(splits["unlabelled"]["labels"]) == 4


def test_deterministic(mnist, splits):
    again = mnist_style.build_mnist_style(mnist, size=32, seed=0, limit=50)
    other = mnist_style.build_mnist_style(mnist, size=32, seed=1, limit=50)
    for name in ("unlabelled", "probe_train", "probe_test"):
        # A limited build is a prefix of a bigger one with the same seed.
        assert again[name]["images"].tobytes() == splits[name]["images"][:50].tobytes()
        assert again[name]["factors"].tobytes() == splits[name]["factors"][:50].tobytes()
        assert not np.array_equal(other[name]["images"], again[name]["images"])
        assert not np.array_equal(other[name]["factors"], again[name]["factors"])
    np.testing.assert_array_equal(other["reference"]["images"], again["reference"]["images"])


def test_size_16_and_empty_limit(mnist):
    small = mnist_style.build_mnist_style(mnist, size=16, limit=3)
    assert small["probe_test"]["images"].shape == (3, 16, 16, 3)
    empty = mnist_style.build_mnist_style(mnist, size=16, limit=0)
    assert all(split["images"].shape == (0, 16, 16, 3) for split in empty.values())


@pytest.mark.parametrize("size", [0, 20, -16, 8, 63.9, "64", True])
def test_bad_size(mnist, size):
    with pytest.raises(UserError, match="size must be a positive multiple of 16"):
        mnist_style.build_mnist_style(mnist, size=size, limit=1)


@pytest.mark.parametrize("limit", [-1, 2.5, "10"])
def test_bad_limit(mnist, limit):
    with pytest.raises(UserError, match="limit must be an integer >= 0"):
        mnist_style.build_mnist_style(mnist, size=16, limit=limit)


def test_bad_seed(mnist):
    with pytest.raises(UserError, match="seed"):
        mnist_style.build_mnist_style(mnist, size=16, seed=-1, limit=1)


@pytest.mark.large
def test_full_build_time(mnist):
    import time

    started = time.perf_counter()
    splits = mnist_style.build_mnist_style(mnist, size=64)
    elapsed = time.perf_counter() - started
    print(f"full 64 px build: {elapsed:.1f} s")
    assert [len(s["images"]) for s in splits.values()] == [30000, 60000, 5000, 5000]
    assert elapsed < 60

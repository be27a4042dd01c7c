import numpy as np
import pytest

from rbvae_tf.metrics import (
    FACTOR_NAMES,
    classification_probe,
    constant_probe,
    normalise_factors,
    regression_probe,
)

KEYS = ["R", "G", "B", "scale", "width", "mean"]


def _factors(n, seed):
    return np.random.default_rng(seed).uniform(size=(n, 5))


def test_normalise_factors_hand_values():
    raw = np.array([[0.1, 0.2, 0.3, 0.5, 1.0], [0.9, 0.8, 0.7, 1.0, 10.0], [0.0, 1.0, 0.5, 0.75, 4.0]])
    expected = np.array([[0.1, 0.2, 0.3, 0.0, 0.0], [0.9, 0.8, 0.7, 1.0, 1.0], [0.0, 1.0, 0.5, 0.5, 1 / 3]])
    np.testing.assert_allclose(normalise_factors(raw), expected, atol=1e-12)
    np.testing.assert_array_equal(raw[:, 3], [0.5, 1.0, 0.75])  # input untouched


def test_normalise_factors_rejects_wrong_width():
    with pytest.raises(ValueError, match="5 columns"):
        normalise_factors(np.zeros((3, 4)))


def test_regression_probe_output_keys_exactly():
    factors = _factors(50, 0)
    result = regression_probe(factors, factors, factors, factors)
    assert list(result) == ["mae"]
    assert list(result["mae"]) == KEYS
    assert all(isinstance(value, float) for value in result["mae"].values())
    assert tuple(FACTOR_NAMES) == tuple(KEYS[:5])
    assert list(constant_probe(factors, factors)["mae"]) == KEYS


def test_regression_probe_identity_codes_is_exact():
    factors = _factors(1500, 1)
    result = regression_probe(factors[:1000], factors[:1000], factors[1000:], factors[1000:])
    for name in KEYS:
        assert result["mae"][name] < 1e-6, name


def test_regression_probe_linear_mixing_is_exact():
    rng = np.random.default_rng(2)
    factors = _factors(1500, 2)
    mixing, offset = rng.normal(size=(5, 12)), rng.normal(size=12)
    codes = 3.0 * factors @ mixing + offset  # wider than the factors, collinear columns
    result = regression_probe(codes[:1000], factors[:1000], codes[1000:], factors[1000:])
    for name in KEYS:
        assert result["mae"][name] < 1e-6, name


def test_regression_probe_random_codes_reach_constant_floor():
    rng = np.random.default_rng(3)
    factors = _factors(3000, 3)
    codes = rng.normal(size=(3000, 16))
    probe = regression_probe(codes[:2000], factors[:2000], codes[2000:], factors[2000:])["mae"]
    floor = constant_probe(factors[:2000], factors[2000:])["mae"]
    assert floor["mean"] == pytest.approx(0.25, abs=0.02)  # E|U - 1/2| for U uniform
    for name in KEYS:
        assert probe[name] == pytest.approx(floor[name], rel=0.1), name
        assert probe[name] > 0.9 * floor[name]


def test_regression_probe_handles_constant_code_dimensions():
    factors = _factors(600, 4)
    codes = np.concatenate([factors, np.zeros((600, 3))], axis=1)
    result = regression_probe(codes[:400], factors[:400], codes[400:], factors[400:])
    assert result["mae"]["mean"] < 1e-6


def test_constant_probe_hand_computed():
    train = np.array([[0.0, 1.0], [2.0, 3.0]])  # mean (1, 2)
    test = np.array([[1.0, 2.0], [3.0, 0.0], [0.0, 2.0]])
    result = constant_probe(train, test, factor_names=("a", "b"))
    assert result["mae"]["a"] == pytest.approx((0 + 2 + 1) / 3)
    assert result["mae"]["b"] == pytest.approx((0 + 2 + 0) / 3)
    assert result["mae"]["mean"] == pytest.approx(5 / 6)
    assert list(result["mae"]) == ["a", "b", "mean"]


def test_probe_rejects_mismatched_names_and_rows():
    factors = _factors(10, 5)
    with pytest.raises(ValueError, match="factor names"):
        regression_probe(factors, factors, factors, factors, factor_names=("a", "b"))
    with pytest.raises(ValueError, match="rows"):
        regression_probe(factors, factors[:5], factors, factors)
    with pytest.raises(ValueError, match="mean"):
        constant_probe(factors[:, :2], factors[:, :2], factor_names=("a", "mean"))


def _clusters(n_per_class, num_classes, seed, spread=0.3):
    rng = np.random.default_rng(seed)
    centres = 5.0 * rng.normal(size=(num_classes, 8))
    labels = np.repeat(np.arange(num_classes), n_per_class)
    codes = centres[labels] + spread * rng.normal(size=(labels.size, 8))
    order = rng.permutation(labels.size)
    return codes[order], labels[order]


def test_classification_probe_separable_clusters():
    codes, labels = _clusters(100, 4, seed=6)
    names = ["neutral", "happy", "sad", "surprise"]
    result = classification_probe(codes[:300], labels[:300], codes[300:], labels[300:], names)
    assert list(result) == ["accuracy", "overall"]
    assert list(result["accuracy"]) == names + ["mean"]
    for name in names + ["mean"]:
        assert result["accuracy"][name] == pytest.approx(1.0), name
    assert result["overall"] == pytest.approx(1.0)


def test_classification_probe_random_labels_at_chance():
    rng = np.random.default_rng(7)
    codes = rng.normal(size=(4000, 10))
    labels = rng.integers(0, 4, size=4000)
    result = classification_probe(codes[:2000], labels[:2000], codes[2000:], labels[2000:])
    assert list(result["accuracy"]) == ["0", "1", "2", "3", "mean"]
    assert result["accuracy"]["mean"] == pytest.approx(0.25, abs=0.04)
    assert result["overall"] == pytest.approx(0.25, abs=0.04)


def test_classification_probe_mean_is_unweighted_per_class_recall():
    # Class 0 is 9x more frequent; codes carry no information, so the classifier always
    # predicts class 0: recalls are (1, 0), their mean 0.5, but overall accuracy is 0.9.
    rng = np.random.default_rng(8)
    labels = np.array([0] * 900 + [1] * 100)
    codes = rng.normal(size=(1000, 1)) * 1e-3
    result = classification_probe(codes, labels, codes, labels, ["common", "rare"])
    assert result["accuracy"] == {"common": 1.0, "rare": 0.0, "mean": 0.5}
    assert result["overall"] == pytest.approx(0.9)


def test_classification_probe_class_missing_from_test_is_nan_and_skipped():
    codes, labels = _clusters(50, 3, seed=9)
    keep = labels[75:] != 2
    test_codes, test_labels = codes[75:][keep], labels[75:][keep]
    result = classification_probe(codes[:75], labels[:75], test_codes, test_labels, ["a", "b", "c"])
    assert np.isnan(result["accuracy"]["c"])
    assert result["accuracy"]["mean"] == pytest.approx(1.0)


def test_classification_probe_rejects_labels_outside_class_names():
    codes, labels = _clusters(10, 3, seed=10)
    with pytest.raises(ValueError, match="labels"):
        classification_probe(codes, labels, codes, labels, class_names=["a", "b"])

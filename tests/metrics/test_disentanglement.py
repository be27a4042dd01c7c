import numpy as np
import pytest

from rbvae_tf.metrics import all_metrics, dci, mig, sap
from rbvae_tf.metrics.disentanglement import dci_from_importance, r2_matrix

KEYS = {"sap", "mig", "dci_disentanglement", "dci_completeness", "dci_informativeness"}
NUM_TRAIN = 2000


def _factors(seed, n=3000, k=5):
    return np.random.default_rng(seed).uniform(size=(n, k))


def _pairs_rotated_45_degrees(factors):
    """Rotates factor pairs (0, 1) and (2, 3) by 45 degrees; factor 4 stays aligned."""
    c = np.sqrt(0.5)
    rotation = np.eye(5)
    rotation[:4, :4] = np.kron(np.eye(2), [[c, -c], [c, c]])
    return factors @ rotation.T


def _score(codes, factors):
    return all_metrics(codes[:NUM_TRAIN], factors[:NUM_TRAIN], codes[NUM_TRAIN:], factors[NUM_TRAIN:])


@pytest.fixture(scope="module")
def factors():
    return _factors(seed=0)


@pytest.fixture(scope="module")
def identity_scores(factors):
    return _score(factors, factors)


@pytest.fixture(scope="module")
def random_scores(factors):
    codes = np.random.default_rng(1).normal(size=(factors.shape[0], 10))
    return _score(codes, factors)


@pytest.fixture(scope="module")
def rotated_scores(factors):
    return _score(_pairs_rotated_45_degrees(factors), factors)


def test_all_metrics_returns_named_floats(identity_scores):
    assert set(identity_scores) == KEYS
    assert all(isinstance(value, float) for value in identity_scores.values())


def test_identity_codes_score_near_one(identity_scores):
    assert identity_scores["sap"] > 0.95  # gap between r^2 = 1 and r^2 ~ 0
    assert identity_scores["mig"] > 0.85  # histogram MI bias of 1000 test samples costs ~0.07
    assert identity_scores["dci_disentanglement"] > 0.95
    assert identity_scores["dci_completeness"] > 0.95
    assert identity_scores["dci_informativeness"] > 0.98


def test_random_codes_score_near_zero(random_scores):
    # Measured with these seeds: SAP ~0.002, MIG ~0.003, DCI-D/C ~0.03, I = 0.
    assert random_scores["sap"] < 0.05
    assert random_scores["mig"] < 0.05
    assert random_scores["dci_disentanglement"] < 0.1
    assert random_scores["dci_completeness"] < 0.1
    assert random_scores["dci_informativeness"] < 0.05


def test_zero_codes_score_zero(factors):
    scores = _score(np.zeros((factors.shape[0], 4)), factors)
    assert scores == pytest.approx(dict.fromkeys(KEYS, 0.0), abs=1e-12)


def test_rotated_codes_score_lower_than_identity(identity_scores, rotated_scores):
    # Four of five factors are spread over two codes each: their SAP/MIG gaps vanish.
    assert rotated_scores["sap"] < 0.35
    assert rotated_scores["mig"] < 0.35
    assert rotated_scores["dci_disentanglement"] < identity_scores["dci_disentanglement"] - 0.3
    assert rotated_scores["dci_completeness"] < identity_scores["dci_completeness"] - 0.3
    # The information is all still there.
    assert rotated_scores["dci_informativeness"] > 0.9


def test_duplicated_code_dimension_lowers_sap_and_mig(factors, identity_scores):
    test = factors[NUM_TRAIN:]
    codes = np.concatenate([test, test[:, :1]], axis=1)  # factor 0 is coded twice
    assert sap(codes, test)["sap"] < identity_scores["sap"] - 0.15
    assert mig(codes, test)["mig"] < identity_scores["mig"] - 0.15


def test_duplicated_code_closes_the_gap_of_a_single_factor():
    factor = _factors(seed=2, n=500, k=1)
    codes = np.concatenate([factor, factor], axis=1)
    assert sap(codes, factor)["sap"] == pytest.approx(0.0, abs=1e-12)
    assert mig(codes, factor)["mig"] == pytest.approx(0.0, abs=1e-12)
    assert sap(codes[:, :1], factor)["sap"] == pytest.approx(1.0)  # one code: second score is 0
    assert mig(codes[:, :1], factor)["mig"] == pytest.approx(1.0)


def test_sap_hand_computed_three_samples():
    # Factor 0 = (0, 1, 2), factor 1 = (1, 0, 0); code 0 = (0, 1, 2), code 1 = (0, 0, 1).
    # r^2: factor 0 -> (1, 3/4), gap 1/4; factor 1 -> (3/4, 1/4), gap 1/2. SAP = 3/8.
    factors = np.array([[0.0, 1.0], [1.0, 0.0], [2.0, 0.0]])
    codes = np.array([[0.0, 0.0], [1.0, 0.0], [2.0, 1.0]])
    assert sap(codes, factors)["sap"] == pytest.approx(3 / 8)


def test_sap_constant_code_scores_zero_so_the_informative_code_has_the_full_gap():
    factors = np.array([[0.0], [1.0], [2.0]])
    codes = np.array([[7.0, 0.0], [7.0, 1.0], [7.0, 2.0]])
    np.testing.assert_allclose(r2_matrix(codes, factors), [[0.0], [1.0]])  # constant code: R^2 0
    assert sap(codes, factors)["sap"] == pytest.approx(1.0)  # gap between 1 and 0


def test_mig_hand_computed_discrete_example():
    # v = (0, 0, 1, 1), H(v) = ln 2. z0 = v: I = ln 2. z1 = (0, 0, 0, 1):
    # I = H(z1) - H(z1 | v) = H(1/4) - H(1/2) / 2. In bits the gap is 1 - (H2(1/4) - 1/2),
    # i.e. MIG = 3/4 log2(3) - 1/2.
    factors = np.array([[0.0], [0.0], [1.0], [1.0]])
    codes = np.array([[0.0, 0.0], [0.0, 0.0], [1.0, 0.0], [1.0, 1.0]])
    assert mig(codes, factors, num_bins=2)["mig"] == pytest.approx(0.75 * np.log2(3) - 0.5)


def test_mig_skips_constant_factors():
    factors = np.array([[0.0, 3.0], [0.0, 3.0], [1.0, 3.0], [1.0, 3.0]])
    codes = np.array([[0.0, 0.0], [0.0, 0.0], [1.0, 0.0], [1.0, 1.0]])
    assert mig(codes, factors, num_bins=2)["mig"] == pytest.approx(0.75 * np.log2(3) - 0.5)
    assert np.isnan(mig(codes, factors[:, 1:], num_bins=2)["mig"])


def test_dci_from_importance_hand_computed():
    # Rows: code 0 -> (1, 0): 1 - H = 1, weight 1/2; code 1 -> (1/2, 1/2): 0, weight 1/2.
    # Columns: factor 0 -> (2/3, 1/3), weight 3/4; factor 1 -> (0, 1): 1, weight 1/4.
    disentanglement, completeness = dci_from_importance([[2.0, 0.0], [1.0, 1.0]])
    binary_entropy = -(2 / 3) * np.log2(2 / 3) - (1 / 3) * np.log2(1 / 3)
    assert disentanglement == pytest.approx(0.5)
    assert completeness == pytest.approx(0.75 * (1 - binary_entropy) + 0.25)


def test_dci_from_importance_extremes():
    assert dci_from_importance(np.eye(3)) == pytest.approx((1.0, 1.0))
    assert dci_from_importance(np.ones((4, 3))) == pytest.approx((0.0, 0.0))
    assert dci_from_importance(np.zeros((4, 3))) == pytest.approx((0.0, 0.0))
    # Unused codes do not dilute disentanglement, but a factor spread over codes lowers completeness.
    assert dci_from_importance([[1.0, 0.0], [0.0, 0.0], [0.0, 1.0]]) == pytest.approx((1.0, 1.0))
    # Factor 0 split evenly over 2 of 3 codes: 1 - log 2 / log 3, weight 2/3; factor 1: 1, weight 1/3.
    completeness = dci_from_importance([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]])[1]
    assert completeness == pytest.approx(2 / 3 * (1 - np.log(2) / np.log(3)) + 1 / 3)


def test_dci_subsample_is_seeded():
    factors = _factors(seed=3, n=700, k=2)
    codes = factors + 0.05 * np.random.default_rng(4).normal(size=factors.shape)
    first = dci(codes[:500], factors[:500], codes[500:], factors[500:], max_train=200, seed=5)
    again = dci(codes[:500], factors[:500], codes[500:], factors[500:], max_train=200, seed=5)
    full = dci(codes[:500], factors[:500], codes[500:], factors[500:], max_train=None, seed=5)
    assert first == again
    assert first != full
    assert full["dci_informativeness"] > first["dci_informativeness"] - 0.05


def test_metrics_reject_mismatched_rows():
    with pytest.raises(ValueError, match="rows"):
        sap(np.zeros((5, 2)), np.zeros((4, 2)))
    with pytest.raises(ValueError, match="2-D"):
        mig(np.zeros(5), np.zeros((5, 1)))
    with pytest.raises(ValueError, match="NaN"):
        dci(np.full((5, 2), np.nan), np.zeros((5, 1)), np.zeros((5, 2)), np.zeros((5, 1)))

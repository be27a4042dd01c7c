"""Loss maths against values computed by hand."""

import math

import numpy as np
import pytest

from rbvae_tf import losses


def test_laplace_nll_is_l1_over_scale():
    x = np.array([[[[0.5, -0.5, 1.0]]], [[[0.0, 0.0, 0.0]]]], np.float32)  # (2, 1, 1, 3)
    mean = np.array([[[[0.0, 0.0, 0.0]]], [[[0.1, -0.2, 0.3]]]], np.float32)
    # |0.5|+|-0.5|+|1| = 2 -> 2 / 0.01 = 200 ; 0.1+0.2+0.3 = 0.6 -> 60
    np.testing.assert_allclose(losses.laplace_nll(x, mean, 0.01), [200.0, 60.0], rtol=1e-5)
    np.testing.assert_allclose(losses.laplace_nll(x, mean, 0.5), [4.0, 1.2], rtol=1e-5)


def test_gaussian_nll_matches_closed_form():
    x = np.array([[1.0, 0.0]], np.float32)
    mean = np.array([[0.0, 0.0]], np.float32)
    log_var = np.array([[0.0, math.log(4.0)]], np.float32)
    # dim 0: 0.5*(log 2pi + 0 + 1) ; dim 1: 0.5*(log 2pi + log 4 + 0)
    expected = 0.5 * (math.log(2 * math.pi) + 1.0) + 0.5 * (math.log(2 * math.pi) + math.log(4.0))
    np.testing.assert_allclose(losses.gaussian_nll(x, mean, log_var), [expected], rtol=1e-6)


def test_kl_to_standard_normal():
    mean = np.array([[0.0, 0.0], [1.0, 2.0]], np.float32)
    log_var = np.array([[0.0, 0.0], [math.log(2.0), 0.0]], np.float32)
    # row 0: 0 ; row 1: 0.5*(1 + 2 - log2 - 1) + 0.5*(4 + 1 - 0 - 1)
    expected = [0.0, 0.5 * (2.0 - math.log(2.0)) + 2.0]
    np.testing.assert_allclose(losses.kl_to_standard_normal(mean, log_var), expected, rtol=1e-6, atol=1e-7)


def test_reparameterize():
    out = losses.reparameterize(
        np.array([[1.0]], np.float32), np.array([[math.log(4.0)]], np.float32), np.array([[0.5]], np.float32)
    )
    np.testing.assert_allclose(out, [[2.0]], rtol=1e-6)


def test_dip_penalty_type_i_and_ii():
    # batch of 2 means: cov = [[1, 1], [1, 1]] (population covariance of +-1)
    mean = np.array([[1.0, 1.0], [-1.0, -1.0]], np.float32)
    log_var = np.log(np.full((2, 2), 0.5, np.float32))
    # type i: off-diagonal 2 entries of 1 -> lambda_od * 2 ; diagonal (1-1)^2 = 0
    np.testing.assert_allclose(losses.dip_penalty(mean, log_var, 10.0, 100.0, "i"), 20.0, rtol=1e-6)
    # type ii: diagonal becomes 1.5 -> lambda_d * 2 * 0.25 ; off-diagonal unchanged
    np.testing.assert_allclose(losses.dip_penalty(mean, log_var, 10.0, 10.0, "ii"), 20.0 + 5.0, rtol=1e-6)
    with pytest.raises(ValueError, match="dip_type"):
        losses.dip_penalty(mean, log_var, 1.0, 1.0, "iii")


def test_discriminator_loss_is_logistic_regression():
    real = np.array([0.0, 2.0], np.float32)
    fake = np.array([0.0, -1.0], np.float32)
    # -log sigmoid(r) - log(1 - sigmoid(f))
    sig = lambda v: 1 / (1 + math.exp(-v))
    expected = [-math.log(sig(0)) - math.log(1 - sig(0)), -math.log(sig(2)) - math.log(1 - sig(-1))]
    np.testing.assert_allclose(losses.discriminator_loss(real, fake), expected, rtol=1e-6)


def test_density_ratio_gap_and_accuracy():
    real = np.array([1.0, 3.0, -1.0], np.float32)
    fake = np.array([-2.0, 0.5], np.float32)
    np.testing.assert_allclose(losses.density_ratio_gap(real, fake), 1.0 - (-0.75), rtol=1e-6)
    np.testing.assert_allclose(losses.binary_accuracy(real, is_real=True), 2 / 3, rtol=1e-6)
    np.testing.assert_allclose(losses.binary_accuracy(fake, is_real=False), 0.5, rtol=1e-6)


def test_mmd_by_hand_with_one_kernel_scale():
    # D = 1, scale 0.5: C = 2 * 1 * 0.5 = 1, k = 1 / (1 + d^2).
    a = np.array([[0.0], [1.0]], np.float32)
    b = np.array([[3.0], [3.0]], np.float32)
    # k_aa off-diagonal 1/2; k_bb 1; k_ab: d^2 = 9, 9, 4, 4 -> mean (0.1 + 0.1 + 0.2 + 0.2) / 4 = 0.15
    assert float(losses.mmd(a, b, scales=(0.5,))) == pytest.approx(0.5 + 1.0 - 2 * 0.15, rel=1e-5)


def test_mmd_is_near_zero_for_one_distribution_and_grows_with_a_shift():
    rng = np.random.default_rng(0)
    a, b = (rng.standard_normal((400, 8)).astype(np.float32) for _ in range(2))
    same, shifted = float(losses.mmd(a, b)), float(losses.mmd(a, b + 1.0))
    assert abs(same) < 0.01 and shifted > 0.5
    assert float(losses.mmd(a, b + 2.0)) > shifted


def test_bounded_logit_is_c_tanh_d_over_c_and_identity_at_zero_bound():
    d = np.array([0.0, 1.0, -30.0, 1e6], np.float32)
    np.testing.assert_allclose(losses.bounded_logit(d, 10.0), 10.0 * np.tanh(d / 10.0), rtol=1e-6)
    assert float(losses.bounded_logit(np.float32(1e6), 10.0)) == pytest.approx(10.0)  # capped at c nats
    assert float(losses.bounded_logit(np.float32(0.01), 10.0)) == pytest.approx(0.01, rel=1e-5)  # ~d near 0
    np.testing.assert_array_equal(losses.bounded_logit(d, 0.0), d)  # off: the paper's raw logit

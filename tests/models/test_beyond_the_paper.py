"""The terms beyond the paper (docs/ablations.md): off by default, weighted when on, reachable by name."""

import keras
import numpy as np
import pytest

from rbvae_tf import losses
from rbvae_tf.models import build_model

TINY = dict(image_size=16, width=0.125, target_dim=3, common_dim=2, seed=1)


def batch(n=4):
    rng = np.random.default_rng(0)
    return tuple(keras.ops.convert_to_tensor(rng.uniform(-1, 1, (n, 16, 16, 3)).astype(np.float32)) for _ in range(2))


def test_paper_defaults_keep_the_extra_weights_at_zero():
    srbvae, rbvae = build_model("srbvae", **TINY), build_model("rbvae", **TINY)
    assert (srbvae.weight_z_invariance, srbvae.weight_reference_target) == (0.0, 0.0)
    assert rbvae.term_weights == {
        "kl_e": 1.0,
        "kl_z": 1.0,
        "reference_kl": 1.0,
        "z_invariance": 0.0,
        "reference_target": 0.0,
    }


def test_srbvae_terms_match_their_definitions():
    model = build_model("srbvae", weight_reference_target=2.0, **TINY)
    x, xr = batch()
    model.start_step()
    recon, _ = model.objective(x, xr)
    assert {"z_invariance", "reference_target"} <= set(recon)
    mean, log_var = model.target_encoder(xr, training=True)
    e_r = np.zeros((4, 3), np.float32)  # e_r starts at zero
    expected = float(np.mean(losses.gaussian_nll(e_r, mean, log_var)))
    assert float(recon["reference_target"]) == pytest.approx(expected, rel=1e-5)


def test_rbvae_loss_weighs_each_term():
    weights = dict(beta_e=2.0, beta_z=0.5, weight_z_invariance=10.0)
    model = build_model("rbvae", **weights, **TINY)
    model.compile(jit_compile=False)
    x, xr = batch()
    keras.utils.set_random_seed(0)
    logs = {k: float(v) for k, v in model.train_step((x, xr)).items()}
    expected = (
        logs["reconstruction"]
        + 2.0 * logs["kl_e"]
        + 0.5 * logs["kl_z"]
        + logs["reference_reconstruction"]
        + 0.5 * logs["reference_kl"]
        + 10.0 * logs["z_invariance"]
    )
    assert logs["loss"] == pytest.approx(expected, rel=1e-4)
    assert logs["reference_target"] == 0.0  # off: not computed

"""The evaluation glue: batched encoding, the Table-1 protocol, floors, the folder protocol, reports."""

import json
import random

import keras
import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from rbvae_tf import data, evaluation, health, loading
from rbvae_tf.batching import as_float
from rbvae_tf.errors import UserError
from rbvae_tf.metrics import constant_probe, normalise_factors
from rbvae_tf.models import build_model

TINY = dict(image_size=16, width=0.125, target_dim=4, common_dim=4)
MAE_KEYS = {"R", "G", "B", "scale", "width", "mean"}
METRIC_KEYS = {"sap", "mig", "dci_disentanglement", "dci_completeness", "dci_informativeness"}


@pytest.fixture(scope="module")
def probe_folder():
    return data.cached_mnist_style(size=16, seed=0, limit=200)


@pytest.fixture(scope="module")
def rbvae():
    return build_model("rbvae", seed=1, **TINY)  # reference-based, and much faster to build than rbvae


def global_draws():
    """One draw of each global random stream: Python, NumPy, TensorFlow."""
    return random.random(), float(np.random.random()), float(tf.random.uniform(()))


@pytest.fixture(scope="module")
def rbvae_results(rbvae, probe_folder, tmp_path_factory):
    out = tmp_path_factory.mktemp("eval_rbvae")
    keras.utils.set_random_seed(123)
    results = evaluation.evaluate(rbvae, out, info={"name": "tiny", "path": None, "fit": None}, limit=200)
    rbvae.draws_after_evaluate = global_draws()
    return results, out


def test_evaluate_leaves_the_global_random_streams_alone(rbvae_results, rbvae):
    keras.utils.set_random_seed(123)
    assert rbvae.draws_after_evaluate == global_draws()  # the same draws as without evaluating


def in_unit_range(value):
    return 0.0 <= value <= 1.0


def test_rb_results_have_table1_keys_and_mae_in_unit_range(rbvae_results):
    results, out = rbvae_results
    assert set(results["probe"]) == {"e", "z", "all", "e_sampled", "z_sampled", "all_sampled", "constant", "untrained"}
    for name, result in results["probe"].items():
        assert set(result["mae"]) == MAE_KEYS, name
        assert all(in_unit_range(v) for v in result["mae"].values()), name
    assert set(results["digit_accuracy"]) == {"e", "z", "all", "e_sampled", "z_sampled", "all_sampled"}
    assert all(in_unit_range(v) for v in results["digit_accuracy"].values())
    assert set(results["metrics"]) == {"e", "z"}
    for scores in results["metrics"].values():
        assert set(scores) == METRIC_KEYS
    assert results["model"]["kind"] == "rbvae" and results["model"]["reference_based"] is True
    assert results["data"]["probe_train"] == results["data"]["probe_test"] == 200
    transfer = results["transfer"]  # readers trained on the 200 probe_train images, 200 pairs
    assert transfer["available"] and transfer["transfer"]["pairs"] == 200
    assert transfer["readers"]["train_images"] == 200 and transfer["generation"]["images"] == 200
    identity, copy = (transfer["transfer"]["factor_error"][k]["mean"] for k in ("identity", "copy"))
    assert copy < identity  # the readers read B's factors closer to B's than A's are
    written = json.loads((out / "metrics.json").read_text())  # strict JSON
    assert written["probe"]["e"]["mae"] == pytest.approx(results["probe"]["e"]["mae"])


def test_constant_floor_is_constant_probe_on_the_same_data(rbvae_results, probe_folder):
    results, _ = rbvae_results
    train, test = data.load_split(probe_folder, "probe_train"), data.load_split(probe_folder, "probe_test")
    expected = constant_probe(normalise_factors(train["factors"]), normalise_factors(test["factors"]))
    assert results["probe"]["constant"]["mae"] == pytest.approx(expected["mae"], abs=1e-12)


def test_markdown_has_table1_header_and_paper_numbers(rbvae_results):
    _, out = rbvae_results
    text = (out / "metrics.md").read_text()
    assert "| Features | R | G | B | Scale | Width | Avg | Paper Avg (Rb-VAE) |" in text
    z_row = next(line for line in text.splitlines() if line.startswith("| z (common) |"))
    assert z_row.endswith("| 0.195 |")  # the paper's z-feature average (Sec. 5.3)
    assert "| untrained (floor) |" in text and "| constant (floor) |" in text
    assert "| **Rb-VAE** | 0.065 | 0.069 | 0.062 | 0.061 | 0.095 | 0.070 |" in text
    assert "| sRb-VAE | 0.057 | 0.053 | 0.055 | 0.038 | 0.095 | 0.060 |" in text
    assert "| DIP-VAE-I | 0.055 | 0.064 | 0.063 | 0.038 | 0.100 | 0.064 |" in text
    assert "| Features | SAP | MIG | DCI D | DCI C | DCI I |" in text
    assert "| Output | Digit acc. (A's label) | R error |" in text and "| **normalised** | **content kept" in text
    assert not list(out.glob(".*tmp"))  # no temporary files left behind


def test_unsupervised_model_uses_all_latents_only(probe_folder, tmp_path):
    model = build_model("dip-vae-ii", seed=2, **TINY)
    results = evaluation.evaluate(model, tmp_path, limit=200)
    assert set(results["probe"]) == {"all", "all_sampled", "constant", "untrained"}
    assert set(results["digit_accuracy"]) == {"all", "all_sampled"}
    assert set(results["metrics"]) == {"all"}
    assert results["model"]["kind"] == "dip-vae-ii"
    assert "| **DIP-VAE-II** |" in (tmp_path / "metrics.md").read_text()
    assert results["transfer"]["available"] is False and "no e/z split" in results["transfer"]["reason"]
    assert "n/a: DIPVAE is unsupervised" in (tmp_path / "metrics.md").read_text()


def test_batched_encoding_equals_one_call_and_splits_e_then_z(rbvae):
    images = np.random.default_rng(0).integers(0, 256, (13, 16, 16, 3), dtype=np.uint8)
    codes = evaluation.encode_features(rbvae, images, batch_size=5)
    x = data.to_unit_range(images)
    np.testing.assert_allclose(codes["e"], rbvae.encode_target(x)["mean"], atol=1e-5)
    np.testing.assert_allclose(codes["z"], rbvae.encode_common(x)["mean"], atol=1e-5)
    np.testing.assert_allclose(codes["all"], np.concatenate([codes["e"], codes["z"]], 1))
    only_e = evaluation.encode_features(rbvae, images, batch_size=4, target_only=True)
    assert set(only_e) == {"e"}
    np.testing.assert_allclose(only_e["e"], codes["e"], atol=1e-5)


def test_untrained_copy_same_config_seeded_weights(rbvae):
    first, second = evaluation.untrained_copy(rbvae, seed=5), evaluation.untrained_copy(rbvae, seed=5)
    assert type(first) is type(rbvae) and first.get_config() == rbvae.get_config()
    for a, b in zip(first.get_weights(), second.get_weights()):
        np.testing.assert_array_equal(a, b)
    other = evaluation.untrained_copy(rbvae, seed=6)
    assert any(not np.array_equal(a, b) for a, b in zip(first.get_weights(), other.get_weights()))
    # the copy made after reseeding everything (as evaluate did before): the untrained floor is unchanged
    state = random.getstate()
    keras.utils.set_random_seed(5)
    reseeded = type(rbvae).from_config(rbvae.get_config())
    random.setstate(state)
    for a, b in zip(first.get_weights(), reseeded.get_weights()):
        np.testing.assert_array_equal(a, b)


class FactorModel:
    """A fake reference-based model whose e is the normalised factors written into pixel row 0 and
    whose z is constant: the e probe must be (near) perfect and z must equal the constant floor."""

    reference_based = True
    image_size, width, target_dim, common_dim = 16, 1.0, 5, 3

    def get_config(self):
        return {}

    @classmethod
    def from_config(cls, config):
        return cls()

    def encode_target(self, images):
        mean = images[:, 0, :5, 0]
        return {"mean": mean, "log_var": tf.fill(tf.shape(mean), -20.0)}  # a near-deterministic posterior

    def encode(self, images):
        e = self.encode_target(images)["mean"]
        mean = tf.concat([e, tf.zeros_like(e[:, :3])], axis=1)
        return {"mean": mean, "log_var": tf.fill(tf.shape(mean), -20.0)}


def factor_split(n, seed):
    rng = np.random.default_rng(seed)
    colour = rng.random((n, 3))
    colour /= colour.sum(1, keepdims=True)
    raw = np.column_stack([colour, rng.uniform(0.5, 1.0, n), rng.integers(1, 11, n)]).astype(np.float32)
    images = np.zeros((n, 16, 16, 3), np.float32)
    images[:, 0, :5, 0] = normalise_factors(raw)
    return {"images": images, "factors": raw, "labels": rng.integers(0, 3, n)}


def test_protocol_reads_factors_from_e_and_nothing_from_constant_z():
    train, test = factor_split(150, 0), factor_split(120, 1)
    results = evaluation.evaluate_mnist(FactorModel(), train, test, batch_size=64)
    assert results["probe"]["e"]["mae"]["mean"] < 1e-4
    assert results["probe"]["all"]["mae"]["mean"] < 1e-4
    assert results["probe"]["z"]["mae"] == pytest.approx(results["probe"]["constant"]["mae"], abs=1e-6)
    assert results["probe"]["constant"]["mae"]["mean"] > 0.05
    assert results["metrics"]["e"]["dci_informativeness"] > 0.9
    assert results["metrics"]["z"]["dci_informativeness"] == 0.0


def test_stratified_halves_are_disjoint_balanced_and_deterministic():
    labels = np.array([0] * 7 + [1] * 4 + [2] * 2)
    train, test = evaluation.stratified_halves(labels, seed=3)
    assert not set(train) & set(test) and len(train) + len(test) == len(labels)
    assert np.bincount(labels[train]).tolist() == [4, 2, 1] and np.bincount(labels[test]).tolist() == [3, 2, 1]
    again = evaluation.stratified_halves(labels, seed=3)
    np.testing.assert_array_equal(train, again[0])


def make_labelled_folder(root, per_class=6):
    colours = {"blue": (0, 0, 255), "red": (255, 0, 0), "grey": (128, 128, 128)}
    rng = np.random.default_rng(0)
    for name, colour in colours.items():
        (root / name).mkdir(parents=True)
        for i in range(per_class):
            pixels = (rng.uniform(0.5, 1.0, (20, 24, 1)) * colour).astype(np.uint8)
            Image.fromarray(pixels).save(root / name / f"{i}.png")
    return root


def test_folder_protocol_reports_per_class_accuracy(rbvae, tmp_path):
    folder = make_labelled_folder(tmp_path / "faces")
    results = evaluation.evaluate(rbvae, tmp_path / "out", probe_dir=folder)
    assert set(results["classification"]) == {"e", "z", "all", "untrained"}
    for result in results["classification"].values():
        assert set(result["accuracy"]) == {"blue", "grey", "red", "mean"}
        assert all(in_unit_range(v) for v in result["accuracy"].values())
    assert results["split"] == {"train": 9, "test": 9, "seed": 0}
    assert "probe" not in results
    text = (tmp_path / "out" / "metrics.md").read_text()
    assert "| Features | blue | grey | red | Avg |" in text


def test_folder_with_a_single_class_is_a_user_error(rbvae, tmp_path):
    folder = make_labelled_folder(tmp_path / "faces")
    for name in ("blue", "grey"):
        for file in (folder / name).iterdir():
            file.unlink()
        (folder / name).rmdir()
    with pytest.raises(UserError, match="at least two class"):
        evaluation.evaluate(rbvae, tmp_path / "out", probe_dir=folder)
    assert not (tmp_path / "out").exists()


def test_data_options_fall_back_to_the_run():
    info = {"fit": {"mnist": "/data/mnist.npz", "data_seed": 4}}
    assert loading.data_options(info) == ("/data/mnist.npz", 4)
    assert loading.data_options(info, mnist="other.npz", data_seed=0) == ("other.npz", 0)
    assert loading.data_options(None) == (None, 0)
    folders = {"name": "faces", "fit": {"reference": "ref/", "unlabelled": "faces/", "data_seed": 0}}
    with pytest.raises(UserError, match="faces was trained on image folders"):
        loading.data_options(folders)
    assert loading.data_options(folders, mnist="m.npz") == ("m.npz", 0)


def test_rb_results_report_branch_health(rbvae_results, rbvae):
    results, out = rbvae_results
    health = results["health"]
    assert health["reference_width"] == 1 and health["discriminator_accuracy"] == {}  # no history: no run
    assert health["e_prior_norm"] == pytest.approx(1.8800, abs=1e-3)  # E|N(0, I_4)| = 3 sqrt(pi / 8)
    assert health["reference_target_norm"] == pytest.approx(0.0)  # untrained: e_r starts at zero
    assert health["reference_l1_ratio"] > 0 and health["sampled_mass_ratio"] > 0
    text = (out / "metrics.md").read_text()
    assert "## Reference-branch health" in text and "| norm of e_r | 0.000 | starts at 0 |" in text


def test_sampled_features_add_posterior_noise(rbvae, probe_folder):
    images = data.load_split(probe_folder, "probe_test")["images"][:20]
    codes = evaluation.encode_features(rbvae, images, batch_size=8, sample_seed=0)
    again = evaluation.encode_features(rbvae, images, batch_size=20, sample_seed=0)
    np.testing.assert_allclose(codes["e_sampled"], again["e_sampled"], atol=1e-5)  # seeded
    posterior = rbvae.encode(as_float(images))
    sigma = np.exp(0.5 * np.asarray(posterior["log_var"]))
    noise = (codes["all_sampled"] - codes["all"]) / sigma
    np.testing.assert_allclose(noise, np.random.default_rng(0).standard_normal(noise.shape), atol=1e-3)
    np.testing.assert_array_equal(codes["z_sampled"], codes["all_sampled"][:, 4:])


def test_branch_health_traces_its_networks_once_per_model(rbvae, probe_folder):
    # fit calls branch_health every epoch: new tf.functions per call retraced each epoch and made
    # TensorFlow print its retracing warning from the sixth epoch of every reference-based run on.
    images = as_float(data.load_split(probe_folder, "unlabelled")["images"][:50])
    first = health.branch_health(rbvae, images, images[:30])
    for count in (7, 50, 13):  # batch sizes change: the signatures take any
        assert health.branch_health(rbvae, images[:count], images[:30])["e_norm"] > 0
    assert [f.experimental_get_tracing_count() for f in health._compiled(rbvae)] == [1, 1, 1]
    assert health.branch_health(rbvae, images, images[:30]) == pytest.approx(first)  # same numbers

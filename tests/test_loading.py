"""Loading models from run directories, .keras files and zoo presets."""

import json
import os

import numpy as np
import pytest

from rbvae_tf.errors import UserError
from rbvae_tf.loading import ZOO, from_preset, latest_finished_run, load_trained, save_preset
from rbvae_tf.models import build_model


@pytest.fixture(scope="module")
def model():
    return build_model("rbvae", image_size=16, width=0.125, target_dim=3, common_dim=4, seed=1)


def test_preset_round_trip(model, tmp_path):
    model.reference_target.assign(np.arange(3, dtype=np.float32))
    save_preset(
        model,
        tmp_path / "p",
        fit={"model": "rbvae", "preset": "tiny"},
        metadata={"k": 1},
        kernels={"onednn": True, "cpu": "Fake CPU"},
    )
    loaded, info = from_preset(tmp_path / "p")
    x = np.random.default_rng(0).uniform(-1, 1, (2, 16, 16, 3)).astype(np.float32)
    np.testing.assert_array_equal(np.asarray(loaded(x)), np.asarray(model(x)))
    np.testing.assert_array_equal(loaded.reference_target.numpy(), [0.0, 1.0, 2.0])
    assert info["fit"] == {"model": "rbvae", "preset": "tiny"} and info["name"] == "p"
    assert json.loads((tmp_path / "p" / "metadata.json").read_text()) == {"k": 1}
    assert json.loads((tmp_path / "p" / "config.json").read_text())["kernels"] == {"onednn": True, "cpu": "Fake CPU"}


def test_preset_of_a_trained_model_holds_its_weights_only(tmp_path):
    import h5py

    from rbvae_tf.models import paper_adam

    trained = build_model("vae", image_size=16, width=0.125, target_dim=2, common_dim=2)
    trained.compile(optimizer=paper_adam(), jit_compile=False)
    x = np.random.default_rng(0).uniform(-1, 1, (4, 16, 16, 3)).astype(np.float32)
    import tensorflow as tf

    trained.fit(tf.data.Dataset.from_tensors((x, x)), epochs=1, verbose=0)  # Adam has its slots now
    save_preset(trained, tmp_path / "p")
    with h5py.File(tmp_path / "p" / "model.weights.h5", "r") as f:
        assert {"encoder", "generator"} <= set(f.keys()) and "optimizer" not in f.keys()
    loaded, _ = from_preset(tmp_path / "p")
    for a, b in zip(loaded.get_weights(), trained.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert not json.loads((tmp_path / "p" / "config.json").read_text())["model"].get("compile_config")


def test_run_dir_and_keras_file(model, tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    model.save(run / "model.keras")
    (run / "config.json").write_text(json.dumps({"fit": {"model": "rbvae"}}))
    loaded, info = load_trained(str(run))
    assert info["fit"] == {"model": "rbvae"} and loaded.target_dim == 3
    loaded, info = load_trained(str(run / "model.keras"))
    assert info == {"name": "model", "path": str(run / "model.keras"), "fit": None}


def test_bundled_preset_loads():
    name = "srbvae-mnist-cpu"
    if not (ZOO / name / "config.json").exists():
        pytest.skip("preset not bundled")
    loaded, info = load_trained(name)
    meta = json.loads((ZOO / name / "metadata.json").read_text())
    np.testing.assert_allclose(loaded.reference_target.numpy(), meta["reference_target"], rtol=1e-6)
    assert loaded.image_size == meta["image_size"] == 32


def test_bad_specs(tmp_path):
    with pytest.raises(UserError, match="no model at 'nowhere'"):
        load_trained("nowhere")
    (tmp_path / "bad.keras").write_bytes(b"not a zip")
    with pytest.raises(UserError, match="cannot load model"):
        load_trained(str(tmp_path / "bad.keras"))
    with pytest.raises(UserError, match="no finished run under"):
        latest_finished_run(tmp_path)


def test_latest_finished_run(tmp_path, model):
    for name, finished, age in (("old", True, 100), ("new", True, 10), ("open", False, 0)):
        run = tmp_path / name
        run.mkdir()
        (run / "model.keras").write_bytes(b"")
        (run / "status.json").write_text(json.dumps({"finished": finished}))
        os.utime(run / "status.json", (1e9 - age, 1e9 - age))
    assert latest_finished_run(tmp_path) == tmp_path / "new"

"""`cli.py fit` end to end on the tiny preset: every model, resume, reload, bad input."""

import csv
import json
import math
import subprocess
import sys

import keras
import numpy as np
import pytest
from click.testing import CliRunner

import cli
from rbvae_tf import runtime
from rbvae_tf.callbacks import StopOnNaN
from rbvae_tf.config import FitConfig
from rbvae_tf.errors import TrainingDiverged, UserError
from rbvae_tf.models import MODELS
from rbvae_tf.training import fit, resolve_run_dir
from tests.conftest import REPO


def run_cli(*args):
    return CliRunner().invoke(cli.cli, [str(a) for a in args], catch_exceptions=False)


def history_epochs(run_dir):
    with open(run_dir / "history.csv", newline="") as f:
        return [int(row["epoch"]) for row in csv.DictReader(f)]


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    return tmp_path_factory.mktemp("runs")


@pytest.mark.parametrize("name", list(MODELS))
def test_every_model_trains_from_the_cli(name, runs):
    out = runs / name
    result = run_cli("fit", "--model", name, "--budget", "tiny", "--out-dir", out)
    assert result.exit_code == 0, result.output
    assert "training on 1 replica:" in result.output
    assert history_epochs(out) == [1, 2]
    assert json.loads((out / "status.json").read_text()) == {"epochs_completed": 2, "finished": True}
    config = json.loads((out / "config.json").read_text())
    assert config["fit"]["model"] == name and config["fit"]["image_size"] == 16
    assert config["kernels"] == runtime.kernel_info()  # which CPU kernels trained it, and on which CPU
    assert (out / "samples" / "epoch_002.png").exists()
    assert any((out / "logs").rglob("events.out.tfevents*"))
    model = keras.models.load_model(out / "model.keras")
    assert type(model) is MODELS[name][0]
    for key in ("image_size", "width", "target_dim", "common_dim", "seed"):
        assert model.get_config()[key] == config["model_config"][key] == config["fit"][key]


def test_model_reloads_in_a_fresh_process_with_identical_outputs(runs, tmp_path):
    out = runs / "srbvae"
    model = keras.models.load_model(out / "model.keras")
    x = np.random.default_rng(0).uniform(-1, 1, (2, 16, 16, 3)).astype(np.float32)
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "y.npy", np.asarray(model(x)))
    np.save(tmp_path / "er.npy", model.reference_target.numpy())
    script = (
        "import sys, numpy as np, keras, rbvae_tf\n"
        f"m = keras.models.load_model({str(out / 'model.keras')!r}, safe_mode=True)\n"
        f"x = np.load({str(tmp_path / 'x.npy')!r})\n"
        f"assert np.array_equal(np.asarray(m(x)), np.load({str(tmp_path / 'y.npy')!r}))\n"
        f"assert np.array_equal(m.reference_target.numpy(), np.load({str(tmp_path / 'er.npy')!r}))\n"
        "assert int(m.optimizer.iterations) == 6 and int(m.discriminator_optimizer.iterations) == 6\n"
        "print('ok')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(REPO), "TF_CPP_MIN_LOG_LEVEL": "3", "PATH": "/usr/bin:/bin"},
        timeout=300,
    )
    assert done.stdout.strip().endswith("ok"), done.stderr[-2000:]


class Interrupt(keras.callbacks.Callback):
    def on_epoch_begin(self, epoch, logs=None):
        if epoch == 1:
            raise KeyboardInterrupt("simulated crash")


def test_interrupted_fit_resumes_and_keeps_each_epoch_once(tmp_path):
    config = FitConfig(model="rbvae", preset="tiny", epochs=3)
    out = tmp_path / "run"
    with pytest.raises(KeyboardInterrupt):
        fit(config, out=out, verbose=0, extra_callbacks=[Interrupt()])
    assert history_epochs(out) == [1]
    assert json.loads((out / "status.json").read_text())["finished"] is False
    result = run_cli("fit", "--model", "rbvae", "--budget", "tiny", "--epochs", 3, "--out-dir", out)
    assert result.exit_code == 0, result.output
    assert "resumed from epoch 1" in result.output
    assert history_epochs(out) == [1, 2, 3]
    model = keras.models.load_model(out / "model.keras")
    assert int(model.optimizer.iterations) == 9  # 3 epochs x 3 steps, none repeated
    # an unfinished run with other settings is refused, a finished one is never overwritten
    assert resolve_run_dir(out, config) == (out.with_name("run-2"), False)


def test_unfinished_run_with_other_settings_is_refused(tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    (out / "config.json").write_text(json.dumps({"fit": {"model": "vae"}}))
    with pytest.raises(UserError, match="holds an unfinished run with other settings"):
        resolve_run_dir(out, FitConfig(model="srbvae", preset="tiny"))


@pytest.mark.parametrize(
    "args, message",
    [
        (["--image-size", "24"], "error: --image-size must be a positive multiple of 16, got 24"),
        (["--limit", "-1"], "error: --limit must be >= 0, got -1"),
        (["--model-arg", "beta_kl"], "error: --model-arg takes KEY=VALUE, got 'beta_kl'"),
        (["--mnist", "/nonexistent/mnist.npz"], "error: "),
        (["--replicas", "2", "--jit"], "error: --jit does not work with --replicas > 1"),
        (["--lr-schedule", "step"], "error: Invalid value for '--lr-schedule': 'step' is not one of"),
        (["--discriminator-lr", "0"], "error: Invalid value for '--discriminator-lr': 0.0 is not in the range x>0."),
    ],
)
def test_bad_input_is_one_line_and_exit_2(args, message, tmp_path):
    out = tmp_path / "run"
    result = CliRunner().invoke(cli.cli, ["fit", "--budget", "tiny", "--out-dir", str(out), *args])
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert lines[-1].startswith(message), result.output
    assert "Traceback" not in result.output
    assert not (out / "model.keras").exists()


def test_nan_loss_stops_with_a_clear_message():
    callback = StopOnNaN()
    callback.on_epoch_begin(1)
    with pytest.raises(TrainingDiverged) as error:
        callback.on_train_batch_end(3, {"loss": math.nan, "kl": 2.0, "reconstruction": math.inf})
    assert str(error.value) == (
        "the loss became nan (reconstruction = inf) at step 4 of epoch 2; training stopped, "
        "the last finished epoch is kept (try a lower learning rate)"
    )
    StopOnNaN().on_train_batch_end(3, {"loss": 1.0, "kl": math.nan})  # a finite loss: nothing happens


def test_nan_in_a_real_fit_names_the_term_and_the_run_step_and_keeps_the_last_epoch(tmp_path):
    class PoisonAtStep5(keras.callbacks.Callback):  # step 5 = step 2 of epoch 2 (3 steps an epoch)
        def on_train_batch_begin(self, batch, logs=None):
            if int(self.model.optimizer.iterations) == 4:
                bias = self.model.generator.trainable_weights[-1]  # the output layer's: G(z) becomes NaN
                bias.assign(np.full(bias.shape, np.nan, "float32"))

    out = tmp_path / "run"
    with pytest.raises(TrainingDiverged) as error:
        fit(FitConfig(model="vae", preset="tiny", epochs=3), out=out, verbose=0, extra_callbacks=[PoisonAtStep5()])
    assert str(error.value).startswith("the loss became nan (reconstruction = nan) at step 5, step 2 of epoch 2;")
    assert history_epochs(out) == [1]
    kept = keras.models.load_model(out / "model.keras")
    assert int(kept.optimizer.iterations) == 3 and all(np.isfinite(w).all() for w in kept.get_weights())


@pytest.mark.large
def test_paper_preset_builds_and_runs_a_step(tmp_path):
    """64 px, width 1 (XLA only with a GPU): one step (opt-in: `python -m pytest -m large`)."""
    out = tmp_path / "paper"
    result = run_cli("fit", "--budget", "paper", "--epochs", 1, "--steps-per-epoch", 1, "--limit", 72, "--out-dir", out)
    assert result.exit_code == 0, result.output
    config = json.loads((out / "config.json").read_text())
    assert (config["fit"]["image_size"], config["fit"]["width"], config["fit"]["batch_size"]) == (64, 1.0, 36)
    assert history_epochs(out) == [1]

"""Crash safety of `fit`: kill -9 of a real process, Ctrl-C, and the weights after resuming.

A real `python cli.py fit` process of a tiny VAE run (3 epochs x 3 steps) is killed with SIGKILL
before its first backup (as soon as config.json exists) and right after its first epoch's history
row (so mid-epoch 2 or during a save), and a run is interrupted in-process with SIGINT during epoch
2; each is then resumed with the same command. With `--backup-every 1`, a process is killed at
exactly chosen points (`tests/crash_hooks.py` pauses it there): mid-epoch right after a step's
backup, while a backup is half written, and while `model.keras` is half written. All must keep
every epoch once, a loadable `model.keras` whenever one exists, 9 optimizer steps in all, and end
near the weights of an uninterrupted run: how near is measured and bounded (WEIGHT_TOLERANCE).
"""

import csv
import json
import os
import signal
import subprocess
import sys
import time

import keras
import numpy as np
import pytest
from click.testing import CliRunner

import cli
from rbvae_tf.config import FitConfig
from rbvae_tf.training import fit
from tests.conftest import REPO

ARGS = ["fit", "--model", "vae", "--budget", "tiny", "--epochs", "3"]
CONFIG = FitConfig(model="vae", preset="tiny", epochs=3)
# How close the final weights come to the uninterrupted run's. Measured: two *uninterrupted* runs of
# this configuration in one process already end 1.4e-3 apart (multithreaded float reductions on the CPU;
# Adam's first steps move each weight by about lr * sign(gradient), so a tiny gradient that changes
# sign moves a weight by ~1e-4 a step). A resumed run ended 1.1e-3 and 1.4e-3 away, so it is bounded at
# twice that run-to-run spread; the exact parts (each epoch once, 9 optimizer steps) are asserted exactly.
WEIGHT_TOLERANCE = 3e-3


def history_epochs(run_dir):
    with open(run_dir / "history.csv", newline="") as f:
        return [int(row["epoch"]) for row in csv.DictReader(f)]


def weights_and_steps(run_dir):
    model = keras.models.load_model(run_dir / "model.keras", safe_mode=True)
    return model.get_weights(), int(model.optimizer.iterations)


def max_difference(a, b):
    return max(float(np.abs(x - y).max()) for x, y in zip(a, b))


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    out = tmp_path_factory.mktemp("uninterrupted") / "run"
    fit(CONFIG, out=out, verbose=0)
    return weights_and_steps(out)


class InterruptAtStep(keras.callbacks.Callback):
    """Sends this process SIGINT before global step `step` (1-based), as Ctrl-C would."""

    def __init__(self, step):
        super().__init__()
        self.step = step

    def on_train_batch_begin(self, batch, logs=None):
        if int(self.model.optimizer.iterations) == self.step - 1:
            os.kill(os.getpid(), signal.SIGINT)


def test_ctrl_c_stops_after_saving_the_epoch_and_resumes(tmp_path, uninterrupted):
    out = tmp_path / "run"
    before = signal.getsignal(signal.SIGINT)  # SIG_IGN when the test runner was started in the background
    fit(CONFIG, out=out, verbose=0, extra_callbacks=[InterruptAtStep(5)])  # step 2 of epoch 2
    assert history_epochs(out) == [1, 2]
    assert json.loads((out / "status.json").read_text()) == {"epochs_completed": 2, "finished": False}
    assert weights_and_steps(out)[1] == 6  # epoch 2 was finished and saved
    assert signal.getsignal(signal.SIGINT) is before  # the handler is removed again
    result = CliRunner().invoke(cli.cli, [*ARGS, "--out-dir", str(out)])
    assert result.exit_code == 0, result.output
    assert f"resumed from epoch 2, step 6 in {out}" in result.output
    assert history_epochs(out) == [1, 2, 3]
    weights, steps = weights_and_steps(out)
    assert steps == 9
    assert max_difference(weights, uninterrupted[0]) <= WEIGHT_TOLERANCE


def first_epoch_written(out):
    return (out / "history.csv").exists() and bool(history_epochs(out))


def run_started(out):
    return (out / "config.json").exists()


@pytest.mark.parametrize("ready", [run_started, first_epoch_written], ids=["before the first backup", "after epoch 1"])
def test_kill_9_of_a_real_fit_resumes_with_each_epoch_once(ready, tmp_path, uninterrupted):
    out = tmp_path / "run"
    process = subprocess.Popen(
        [sys.executable, "cli.py", *ARGS, "--out-dir", str(out)],
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
    )
    try:
        deadline = time.monotonic() + 240
        while not ready(out) and time.monotonic() < deadline:
            assert process.poll() is None, "fit ended before it could be killed"
            time.sleep(0.05)
        process.send_signal(signal.SIGKILL)
    finally:
        process.kill()
        process.wait()
    done = history_epochs(out) if (out / "history.csv").exists() else []
    assert done in ([], [1], [1, 2]), done
    # The epoch end writes the history row, model.keras (temporary name, renamed), then the backup:
    # killed before the first rename there is none yet; else it loads, at the last finished epoch.
    if (out / "model.keras").exists():
        assert weights_and_steps(out)[1] in (3 * len(done) - 3, 3 * len(done))
    result = CliRunner().invoke(cli.cli, [*ARGS, "--out-dir", str(out)])
    assert result.exit_code == 0, result.output
    # Killed before the first backup, the run starts over in the same folder (no "resumed"); killed
    # between an epoch's history row and its backup, that epoch is trained and written again.
    resumed = int(result.output.split("resumed from epoch ")[1].split(",")[0]) if "resumed" in result.output else 0
    assert max(len(done) - 1, 0) <= resumed <= len(done)
    if resumed:
        assert f"resumed from epoch {resumed}, step {3 * resumed} in {out}" in result.output
    assert history_epochs(out) == [1, 2, 3]
    weights, steps = weights_and_steps(out)
    assert steps == 9
    assert max_difference(weights, uninterrupted[0]) <= WEIGHT_TOLERANCE


def kill_at_hook(hook, out, tmp_path, *options):
    """Runs `cli.py fit` under `tests/crash_hooks.py`, waits for its pause at `hook`, and kills it -9."""
    marker = tmp_path / "paused"
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.crash_hooks", hook, str(marker), *ARGS, "--out-dir", str(out), *options],
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
    )
    try:
        deadline = time.monotonic() + 240
        while not marker.exists() and time.monotonic() < deadline:
            if process.poll() is not None:
                raise AssertionError(f"fit ended before its pause at {hook}: {process.stderr.read().decode()[-2000:]}")
            time.sleep(0.05)
        assert marker.exists(), f"no pause at {hook} within 240 s"
    finally:
        process.kill()
        process.wait()
        process.stderr.close()


def backup_step(out):
    return json.loads((out / "backup" / "training_metadata.json").read_text())["step"]


# (hook, history rows and model.keras steps at the kill, step and epoch the same command resumes from)
KILL_POINTS = [
    ("after-backup:4", [1], 3, 4),  # mid-epoch 2, just after the backup of its first step
    ("in-backup:5", [1], 3, 4),  # the step-5 backup half written: the step-4 one is whole
    ("in-model-save:2", [1, 2], 3, 5),  # model.keras of epoch 2 half written: epoch 1's is whole
]


@pytest.mark.parametrize(
    "hook, done, saved_steps, resumed_step",
    KILL_POINTS,
    ids=["mid-epoch after a step backup", "during a backup", "during the model.keras save"],
)
def test_kill_9_with_backup_every_step_resumes_at_the_step(
    hook, done, saved_steps, resumed_step, tmp_path, uninterrupted
):
    out = tmp_path / "run"
    kill_at_hook(hook, out, tmp_path, "--backup-every", "1")
    assert history_epochs(out) == done
    assert weights_and_steps(out)[1] == saved_steps  # model.keras loads: the last one renamed into place
    assert backup_step(out) == resumed_step
    result = CliRunner().invoke(cli.cli, [*ARGS, "--out-dir", str(out), "--backup-every", "1"])
    assert result.exit_code == 0, result.output
    assert f"resumed from epoch {resumed_step // 3}, step {resumed_step} in {out}" in result.output
    assert history_epochs(out) == [1, 2, 3]
    weights, steps = weights_and_steps(out)
    assert steps == 9 and backup_step(out) == 9
    assert max_difference(weights, uninterrupted[0]) <= WEIGHT_TOLERANCE

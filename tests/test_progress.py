"""The training display (`rbvae_tf.progress`): short lines with the right numbers, in place
on a terminal, a bounded number of lines in a log file, nothing with `none`; history.csv keeps every value."""

import csv
import doctest
import io
import types

import numpy as np
import pytest

from rbvae_tf import progress, training
from rbvae_tf.config import FitConfig
from rbvae_tf.models.srbvae import SRbVAE
from rbvae_tf.progress import TrainingProgress, format_number, headline

MAX_LINE = 120  # the bound a line must keep; the lines are designed to stay under ~100


class Terminal(io.StringIO):
    def isatty(self):
        return True


def srbvae_logs(scale=1.0, epoch_end=False):
    """Logs with every name sRb-VAE logs (16, plus the branch health at an epoch's end), wide numbers."""
    rng = np.random.default_rng(0)
    logs = {name: float(-123456.789 * scale * rng.uniform(0.5, 1)) for name in SRbVAE.metric_names}
    logs.update({name: 0.25 + 0.5 * rng.uniform() for name in SRbVAE.metric_names if "_acc_" in name})
    if epoch_end:
        logs.update(
            {
                f"health_{name}": -98765.4321
                for name in ("e_std", "z_std", "reference_e_distance", "swap_ratio", "kl_e", "kl_z")
            }
        )
    return logs


def started(mode="compact", stream=None, steps=400, part=None, epochs=6):
    callback = TrainingProgress(steps=steps, mode=mode, stream=stream)
    callback.set_params({"epochs": epochs, "steps": part or steps})
    callback.on_epoch_begin(0)
    return callback


def test_docstring_examples_run():
    result = doctest.testmod(progress)
    assert result.attempted >= 2 and result.failed == 0


def test_headline_picks_loss_image_regulariser_and_mean_accuracy():
    logs = srbvae_logs()
    accuracies = [logs[n] for n in logs if "_acc_" in n]
    assert len(accuracies) == 4
    assert headline(logs) == [
        ("loss", logs["loss"]),
        ("image", logs["image"]),
        ("adv", logs["adversarial"]),
        ("d-acc", pytest.approx(np.mean(accuracies))),
    ]
    assert headline({"loss": 3.0, "reconstruction": 2.0, "kl": 1.0, "weighted_kl": 4.0}) == [
        ("loss", 3.0),
        ("reconstruction", 2.0),
        ("weighted_kl", 4.0),
    ]  # beta-VAE: the weighted term is in the loss
    assert headline({"loss": 3.0, "reconstruction": 2.0, "kl": 1.0, "dip": 0.5}) == [
        ("loss", 3.0),
        ("reconstruction", 2.0),
        ("dip", 0.5),
    ]


def test_lines_stay_short_with_every_srbvae_metric_and_wide_numbers():
    callback = started()
    for scale in (1.0, 1e6, 1e-9):
        step = callback.step_line(123, 3725.0, srbvae_logs(scale))
        end = callback.epoch_line(0, 400, 5000.0, srbvae_logs(scale, epoch_end=True))
        assert len(step) < 100 and len(end) < MAX_LINE, (step, end)
    assert callback.step_line(123, 3725.0, srbvae_logs()).startswith("epoch 1/6 step 123/400 ETA 1:02:05 | loss -")


def test_a_log_file_gets_a_line_each_tenth_of_an_epoch_then_the_summary():
    stream = io.StringIO()
    callback = started(stream=stream, steps=1000)
    for batch in range(1000):
        callback.on_train_batch_end(batch, srbvae_logs())
    callback.on_epoch_end(0, srbvae_logs(epoch_end=True))
    lines = stream.getvalue().splitlines()
    assert "\r" not in stream.getvalue()
    assert [line.split(" ETA")[0] for line in lines[:-1]] == [f"epoch 1/6 step {s}/1000" for s in range(100, 1000, 100)]
    assert lines[-1].startswith("epoch 1/6: 1000 steps in ")
    assert all(len(line) < MAX_LINE for line in lines)


def test_a_terminal_line_is_rewritten_in_place_at_most_ten_times_a_second(monkeypatch):
    now = iter(np.arange(0.0, 100.0, 0.004))  # a clock that advances 4 ms at each reading
    monkeypatch.setattr(progress, "time", types.SimpleNamespace(perf_counter=lambda: float(next(now))))
    stream = Terminal()
    callback = started(stream=stream, steps=500)
    for batch in range(500):  # 500 steps in about 2 s: the first, one each 0.1 s, and the last are drawn
        callback.on_train_batch_end(batch, srbvae_logs())
    drawn = stream.getvalue()
    assert "\n" not in drawn and 15 <= drawn.count("\r") <= 2 + 2.0 / progress.REFRESH_SECONDS
    assert drawn.split("\r")[-1].startswith("epoch 1/6 step 500/500 ETA 0:00 | loss ")
    callback.on_epoch_end(0, srbvae_logs(epoch_end=True))
    updates = stream.getvalue().split("\r")[1:]
    assert updates[-1].startswith("epoch 1/6: 500 steps in 0:02 ") and updates[-1].endswith("\n")
    assert all(len(update.rstrip("\n")) < MAX_LINE for update in updates)


def test_a_resumed_epoch_counts_from_where_it_stopped():
    stream = io.StringIO()
    callback = started(stream=stream, steps=400, part=150)  # `fit` over the last 150 steps of an epoch
    for batch in range(150):
        callback.on_train_batch_end(batch, {"loss": 1.0})
    callback.on_epoch_end(0, {"loss": 1.0})
    lines = stream.getvalue().splitlines()
    assert [line.split(" ETA")[0] for line in lines[:-1]] == [
        "epoch 1/6 step 280/400",
        "epoch 1/6 step 320/400",
        "epoch 1/6 step 360/400",
    ]
    assert lines[-1].startswith("epoch 1/6: 150 steps in ")


@pytest.mark.parametrize("mode, lines", [("epoch", 1), ("none", 0)])
def test_epoch_mode_prints_the_summary_only_and_none_prints_nothing(mode, lines):
    for stream in (io.StringIO(), Terminal()):
        callback = started(mode, stream=stream, steps=20)
        for batch in range(20):
            callback.on_train_batch_end(batch, srbvae_logs())
        callback.on_epoch_end(0, srbvae_logs(epoch_end=True))
        assert stream.getvalue().count("\n") == lines and ("\r" in stream.getvalue()) == (lines and stream.isatty())


def test_unknown_mode_is_refused():
    with pytest.raises(ValueError, match="mode must be one of compact, epoch, none"):
        TrainingProgress(mode="loud")
    with pytest.raises(ValueError):
        TrainingProgress(mode="full")  # Keras' own bar: fit(progress="full") adds no TrainingProgress


# --- in a real fit --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def srbvae_run(tmp_path_factory):
    """A tiny sRb-VAE fit of 10 steps with the default display, its stdout captured (not a terminal)."""
    import contextlib

    out, printed = tmp_path_factory.mktemp("progress") / "run", io.StringIO()
    with contextlib.redirect_stdout(printed):
        training.fit(FitConfig(model="srbvae", preset="tiny", epochs=1, steps_per_epoch=10, limit=64), out=out)
    with open(out / "history.csv", newline="") as f:
        return printed.getvalue().splitlines(), list(csv.DictReader(f))


def test_a_real_srbvae_fit_prints_short_lines_with_the_logged_numbers(srbvae_run):
    lines, history = srbvae_run
    assert all(len(line) < MAX_LINE for line in lines), max(lines, key=len)
    steps = [line for line in lines if line.startswith("epoch 1/1 step ")]
    assert [line.split(" ETA")[0] for line in steps] == [f"epoch 1/1 step {s}/10" for s in range(1, 10)]
    (summary,) = [line for line in lines if line.startswith("epoch 1/1: ")]
    row = {key: float(value) for key, value in history[0].items()}
    accuracy = np.mean([value for key, value in row.items() if "_acc_" in key])
    assert summary.startswith("epoch 1/1: 10 steps in ")
    assert summary.endswith(
        f"| loss {format_number(row['loss'])} image {format_number(row['image'])} "
        f"adv {format_number(row['adversarial'])} d-acc {accuracy:.2f}"
    ), summary
    assert len(row) > 20  # history.csv still has every value (and the branch health)


def test_none_adds_no_display_and_full_is_keras_own_bar(tmp_path, monkeypatch, capsys):
    seen = {}

    def record(model, make_dataset, step, steps, epochs, callbacks, verbose):
        seen[len(seen)] = (verbose, [type(c).__name__ for c in callbacks])

    monkeypatch.setattr(training, "run_epochs", record)
    config = FitConfig(model="vae", preset="tiny", limit=64)
    for number, mode in enumerate(("none", "full", "compact")):
        training.fit(config, out=tmp_path / f"run{number}", progress=mode)
    assert seen[0][0] == 0 and "TrainingProgress" not in seen[0][1]
    assert seen[1][0] == 1 and "TrainingProgress" not in seen[1][1]
    assert seen[2][0] == 0 and seen[2][1].index("TrainingProgress") > seen[2][1].index("BranchHealth")
    with pytest.raises(Exception, match="progress must be one of compact, full, epoch, none, got 'loud'"):
        training.fit(config, out=tmp_path / "bad", progress="loud")

"""The training display: one short line per step and one per epoch, instead of Keras' line of every value.

Keras' progress bar prints every logged value (16 for sRb-VAE, 22 at an epoch's end with the branch
health), about 600 characters that wrap over several terminal lines at every step. `TrainingProgress`
shows the few numbers a person follows while training and leaves the rest to history.csv and
TensorBoard, which get every value as before (`python cli.py fit --budget tiny --epochs 2
--steps-per-epoch 30 --limit 64` on a terminal, 2026-12-01):

    epoch 2/2 step 20/30 ETA 0:01 | loss 1.174e+05 image 5.888e+04 adv 0.6661 d-acc 0.61
    epoch 2/2: 30 steps in 0:18 (0.61 s/step) | loss 1.155e+05 image 5.795e+04 adv 0.8553 d-acc 0.64

- `loss`: the model's (the encoder-generator player's) loss;
- the image term: `image` (adversarial family) or `reconstruction` (the VAE family);
- the regulariser: `adv` (the Eq. 8 adversarial term) or `kl` / `weighted_kl` / `dip` / `kl_e`;
- `d-acc`: the discriminators' mean accuracy over their real and fake rows (adversarial family):
  near 1 the discriminators win, near 0.5 they cannot tell the two sides apart.

On a terminal the step line is rewritten in place (at most ten times a second) and cut to the
terminal's width; on any other stream (a log file, a pipe) a step line is printed only at each tenth
of the epoch, so a long run never floods its log. Modes: `compact` (the above), `epoch` (the epoch
lines only) and `none` (nothing); `full`, Keras' own line, is `verbose=1` of `fit` without this callback.

Example:
>>> import io
>>> stream = io.StringIO()
>>> progress = TrainingProgress(steps=4, mode="compact", stream=stream)
>>> progress.set_params({"epochs": 1, "steps": 4})
>>> progress.on_epoch_begin(0)
>>> progress.on_epoch_end(0, {"loss": 2.5, "reconstruction": 2.0, "kl": 0.5})
>>> stream.getvalue().split(" in ")[0]
'epoch 1/1: 4 steps'
"""

import shutil
import sys
import time

import keras
import numpy as np

MODES = ("compact", "full", "epoch", "none")
IMAGE_TERMS = ("image", "reconstruction")
REGULARISERS = (("adversarial", "adv"), ("weighted_kl", "weighted_kl"), ("dip", "dip"), ("kl", "kl"), ("kl_e", "kl_e"))
LOG_POINTS = 10  # step lines per epoch on a stream that is not a terminal (one each tenth of the epoch)
REFRESH_SECONDS = 0.1  # shortest time between two in-place updates on a terminal


def headline(logs):
    """The (label, value) pairs of the display, in order, from one `logs` dict of Keras.

    Args:
        logs: dict name -> number (Python, numpy or a scalar tensor).

    Returns:
        list of (str, float): `loss`, the image term, the regulariser and `d-acc` (the mean of every
        `*_acc_real` and `*_acc_fake`), each only when the logs have it.

    Example:
    >>> headline({"loss": 3.0, "adversarial": 0.5, "image": 2.0, "discriminator_acc_real": 0.75,
    ...           "discriminator_acc_fake": 0.25, "latent": 1.0})
    [('loss', 3.0), ('image', 2.0), ('adv', 0.5), ('d-acc', 0.5)]
    """
    logs = logs or {}
    pairs = [("loss", logs["loss"])] if "loss" in logs else []
    pairs += [(name, logs[name]) for name in IMAGE_TERMS if name in logs][:1]
    pairs += [(label, logs[name]) for name, label in REGULARISERS if name in logs][:1]
    accuracies = [float(value) for name, value in logs.items() if "_acc_real" in name or "_acc_fake" in name]
    if accuracies:
        pairs.append(("d-acc", float(np.mean(accuracies))))
    return [(label, float(value)) for label, value in pairs]


def format_number(value):
    """Four significant digits, in at most 10 characters: 10234.5 -> '1.023e+04', 0.5 -> '0.5'."""
    return f"{value:.4g}"


def format_duration(seconds):
    """`m:ss`, or `h:mm:ss` from an hour on."""
    seconds = int(round(max(seconds, 0)))
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


def format_values(pairs):
    """`label value` pairs; accuracies (`d-acc`) with two decimals, the rest with `format_number`."""
    return " ".join(
        f"{label} {value:.2f}" if label == "d-acc" else f"{label} {format_number(value)}" for label, value in pairs
    )


class TrainingProgress(keras.callbacks.Callback):
    """Prints a compact step line (in place on a terminal) and a one-line summary of each epoch.

    Args:
        steps: int. Steps of a whole epoch of the run. A `fit` over the rest of a part-done epoch
            (a resumed run) counts its steps from where that epoch stopped. Defaults to None: the
            steps of each `fit`.
        mode: str. `compact` (step and epoch lines), `epoch` (epoch lines) or `none`. Defaults to
            `compact`.
        stream: file-like or None. Where to print. Defaults to None: `sys.stdout` at each call (so a
            test's or a runner's redirection is followed).
        interactive: bool or None. Rewrite the step line in place. Defaults to None: when `stream`
            is a terminal.
    """

    def __init__(self, steps=None, mode="compact", stream=None, interactive=None):
        super().__init__()
        if mode not in MODES or mode == "full":
            raise ValueError(f"mode must be one of compact, epoch, none (full is Keras' own), got {mode!r}")
        self.steps = steps
        self.mode = mode
        self.stream = stream
        self.interactive = interactive
        self._shown = 0  # characters of the in-place line now on the terminal

    # === Output ===

    def _out(self):
        return self.stream if self.stream is not None else sys.stdout

    def _is_terminal(self):
        if self.interactive is not None:
            return self.interactive
        isatty = getattr(self._out(), "isatty", None)
        return bool(isatty and isatty())

    def _write(self, text, in_place):
        out = self._out()
        if self._is_terminal():
            width = shutil.get_terminal_size((100, 24)).columns - 1
            text = text[:width]
            out.write("\r" + text.ljust(self._shown) + ("" if in_place else "\n"))
            self._shown = len(text) if in_place else 0
        else:
            out.write(text + "\n")
        out.flush()

    # === Keras hooks ===

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch
        self._started = time.perf_counter()
        self._first_done = None  # end of the first step: the steady pace is measured from there
        self._last_write = 0.0
        part = int(self.params.get("steps") or 0)
        total = self.steps or part
        self._total, self._offset = total, max(total - part, 0)
        self._marks = {round(k * total / LOG_POINTS) for k in range(1, LOG_POINTS)} if total else set()

    def on_train_batch_end(self, batch, logs=None):
        if self.mode != "compact":
            return
        now = time.perf_counter()
        done_here = batch + 1
        if self._first_done is None:
            self._first_done = (now, done_here)
        step = self._offset + done_here
        if self._is_terminal():
            if now - self._last_write < REFRESH_SECONDS and step < self._total:
                return
        elif step not in self._marks:
            return
        self._last_write = now
        self._write(self.step_line(step, self._eta(now, done_here), logs), in_place=True)

    def on_epoch_end(self, epoch, logs=None):
        if self.mode == "none":
            return
        seconds = time.perf_counter() - self._started
        done = self._total - self._offset
        self._write(self.epoch_line(epoch, done, seconds, logs), in_place=False)

    # === Lines ===

    def _epochs(self):
        return self.params.get("epochs") or "?"

    def _eta(self, now, done_here):
        """Seconds left in the epoch at the pace since the first step (which includes the tracing), or None."""
        first_time, first_done = self._first_done
        if done_here <= first_done or not self._total:
            return None
        per_step = (now - first_time) / (done_here - first_done)
        return per_step * (self._total - self._offset - done_here)

    def step_line(self, step, eta, logs):
        """`epoch E/N step S/T ETA m:ss | loss ... image ... adv ... d-acc ...`"""
        eta_text = "ETA " + (format_duration(eta) if eta is not None else "?")
        return f"epoch {self._epoch + 1}/{self._epochs()} step {step}/{self._total} {eta_text} | " + format_values(
            headline(logs)
        )

    def epoch_line(self, epoch, done, seconds, logs):
        """`epoch E/N: T steps in m:ss (x s/step) | loss ... image ... adv ... d-acc ...`"""
        pace = f"{seconds / done:.2g} s/step" if done else "no step"
        return (
            f"epoch {epoch + 1}/{self._epochs()}: {done} steps in {format_duration(seconds)} ({pace}) | "
            + format_values(headline(logs))
        )

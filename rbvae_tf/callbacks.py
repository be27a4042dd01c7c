"""Side effects of training (files written each epoch); never inside `train_step`."""

import csv
import io
import json
import math
import os
import signal
import threading
import time

import keras
import numpy as np

from rbvae_tf.errors import TrainingDiverged
from rbvae_tf.files import write_text_atomically
from rbvae_tf.health import branch_health
from rbvae_tf.imaging import make_grid, save_png, tile_scale


def global_step(model):
    """The optimizer steps done by `model` (`int()` of a variable fails under MultiWorkerMirroredStrategy)."""
    return int(np.asarray(model.optimizer.iterations.numpy()))


class StopOnNaN(keras.callbacks.TerminateOnNaN):
    """Stops at the first non-finite loss by raising `TrainingDiverged`.

    Raising (rather than setting `stop_training`) means no `on_epoch_end` runs, so neither the
    backup nor `model.keras` is overwritten by a diverged state.
    """

    epoch = 0

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        logs = logs or {}
        loss = logs.get("loss")
        if loss is None or math.isfinite(float(loss)):
            return
        # Name the terms that diverged (the loss is their weighted sum), and the step of the whole run.
        bad = [
            f"{name} = {float(value)}"
            for name, value in logs.items()
            if name != "loss" and np.ndim(value) == 0 and not math.isfinite(float(value))
        ]
        model = getattr(self, "_model", None)
        optimizer = getattr(model, "optimizer", None)
        step = f"step {global_step(model)}, " if optimizer is not None else ""
        raise TrainingDiverged(
            f"the loss became {float(loss)} ({', '.join(bad) or 'no single term'}) at {step}step {batch + 1} of "
            f"epoch {self.epoch + 1}; training stopped, the last finished epoch is kept (try a lower learning rate)"
        )


class StopOnInterrupt(keras.callbacks.Callback):
    """Ctrl-C (SIGINT) once: finish the current epoch, whose `model.keras` and backup are written, then
    stop; the same command resumes exactly there. Ctrl-C twice: stop at once (KeyboardInterrupt), the
    last finished epoch being kept. `install()` / `uninstall()` set and restore the signal handler
    (main thread only: Python delivers signals there).
    """

    requested = False
    _previous = None

    def install(self):
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._request)

    def uninstall(self):
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)
            self._previous = None

    def _request(self, signum, frame):
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True
        print("\ninterrupt: stopping when this epoch is saved (press Ctrl-C again to stop now)", flush=True)

    def on_epoch_end(self, epoch, logs=None):
        if self.requested:
            self.model.stop_training = True


def read_history(path):
    """The rows of a history.csv as dicts of strings, [] if there is none yet."""
    if not os.path.exists(path):
        return []
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


class HistoryCSV(keras.callbacks.Callback):
    """history.csv with one row per epoch (1-based `epoch` column), each epoch exactly once.

    On resume, rows of epochs at or after the restored epoch are replaced rather than appended,
    so an interruption between writing a row and backing up cannot duplicate an epoch.
    """

    def __init__(self, path):
        super().__init__()
        self.path = path

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.time()

    def on_epoch_end(self, epoch, logs=None):
        rows = [r for r in read_history(self.path) if int(r["epoch"]) < epoch + 1]
        row = {"epoch": epoch + 1, "seconds": round(time.time() - self._start, 2)}
        row.update({k: float(v) for k, v in sorted((logs or {}).items())})
        rows.append(row)
        fields = list(dict.fromkeys(k for r in rows for k in r))
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=fields, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        write_text_atomically(self.path, buffer.getvalue())


class SaveRun(keras.callbacks.Callback):
    """Saves `model.keras` (with both optimizers) and `status.json` at the end of every epoch, atomically."""

    def __init__(self, run_dir, epochs):
        super().__init__()
        self.run_dir = run_dir
        self.epochs = epochs

    def on_epoch_end(self, epoch, logs=None):
        path = os.path.join(self.run_dir, "model.keras")
        tmp = os.path.join(self.run_dir, ".model.tmp.keras")
        self.model.save(tmp)
        os.replace(tmp, path)
        write_status(self.run_dir, epochs_completed=epoch + 1, finished=epoch + 1 >= self.epochs)


class Backup(keras.callbacks.BackupAndRestore):
    """Keras' BackupAndRestore files (`latest.weights.h5`, `training_metadata.json`), written
    atomically at every epoch end and, with `every=N`, every N optimizer steps; restored mid-epoch.

    Keras' own callback restores in `on_train_begin` and then restarts the interrupted epoch from
    its first step; here `restore()` is called before `fit`, the step of the restored state is the
    optimizer's step counter saved with the weights, and `training.run_epochs` continues at that
    step. Each file goes to a temporary name and is renamed over the old one, so a kill during a
    save leaves the previous backup whole. The last step of an epoch is backed up by the epoch end,
    listed after the history row and `model.keras`, so a resumed epoch is always written again.
    """

    def __init__(self, backup_dir, steps_per_epoch, every=None):
        super().__init__(str(backup_dir), save_freq=every or "epoch", delete_checkpoint=False)
        self.steps_per_epoch = steps_per_epoch
        self.every = every

    def restore(self, model):
        """Loads the backup into `model` (weights, e_r, both optimizers) and returns its step, 0 if none."""
        if not os.path.exists(self._weights_path):
            return 0
        if not model.optimizer.built:
            model.optimizer.build(model.trainable_variables)
        model.load_weights(self._weights_path)
        return global_step(model)

    def on_train_begin(self, logs=None):
        pass  # restored before `fit` by `restore`

    def on_train_batch_end(self, batch, logs=None):
        step = global_step(self.model)
        if self.every and step % self.every == 0 and step % self.steps_per_epoch:
            self.save(step)

    def on_epoch_end(self, epoch, logs=None):
        self.save(global_step(self.model))

    def save(self, step):
        """Writes the weights, then the metadata (the step in it is for people: `restore` reads the weights')."""
        os.makedirs(self.backup_dir, exist_ok=True)
        temporary = os.path.join(self.backup_dir, "latest.tmp.weights.h5")
        self.model.save_weights(temporary, overwrite=True)
        os.replace(temporary, self._weights_path)
        epoch, batch = divmod(step, self.steps_per_epoch)
        write_text_atomically(self._training_metadata_path, json.dumps({"epoch": epoch, "batch": batch, "step": step}))


def write_status(run_dir, epochs_completed, finished):
    write_text_atomically(
        os.path.join(run_dir, "status.json"), json.dumps({"epochs_completed": epochs_completed, "finished": finished})
    )


class BranchHealth(keras.callbacks.Callback):
    """Adds the reference-branch health numbers (`rbvae_tf.health`) to each epoch's logs as `health_*`.

    Listed before `HistoryCSV` and TensorBoard, which then write them: a dying reference branch
    shows at epoch 1. Does nothing for unsupervised models.
    """

    def __init__(self, unlabelled, reference, seed=0):
        super().__init__()
        self.unlabelled = np.asarray(unlabelled, np.float32)
        self.reference = np.asarray(reference, np.float32)
        self.seed = seed

    def on_epoch_end(self, epoch, logs=None):
        if logs is None or not self.model.reference_based:
            return
        health = branch_health(self.model, self.unlabelled, self.reference, self.seed)
        logs.update({f"health_{name}": value for name, value in health.items() if "prior" not in name})


class SampleGrid(keras.callbacks.Callback):
    """samples/epoch_NNN.png: inputs, reconstructions, generations from fixed noise, transfers.

    Rows (reference-based models): unlabelled inputs; their reconstructions G(z, e); their reference
    versions G(z, e_r); transfers G(z of the input, e of the previous input: np.roll by 1, so the
    first takes the last); generations G(z_hat, e_hat) from noise fixed for the whole run. Unsupervised models:
    inputs, reconstructions, generations.
    """

    def __init__(self, run_dir, images, seed=0):
        super().__init__()
        self.run_dir = run_dir
        self.images = np.asarray(images, np.float32)
        self.seed = seed

    def on_epoch_end(self, epoch, logs=None):
        model, x = self.model, self.images
        n = len(x)
        rng = np.random.default_rng(self.seed)
        rows = [x, model(x, training=False)]
        if model.reference_based:
            z = model.encode_common(x)["mean"]
            e = model.encode_target(x)["mean"]
            rows.append(model.generate(z, model.reference_latent(n)))
            rows.append(model.generate(z, np.roll(np.asarray(e), 1, axis=0)))
            noise_z = rng.standard_normal((n, model.common_dim)).astype(np.float32)
            noise_e = rng.standard_normal((n, model.target_dim)).astype(np.float32)
            rows.append(model.generate(noise_z, noise_e))
        else:
            noise = rng.standard_normal((n, model.target_dim + model.common_dim)).astype(np.float32)
            rows.append(model.generate(noise))
        rows = [np.asarray(r) for r in rows]
        save_png(
            make_grid(rows),
            os.path.join(self.run_dir, "samples", f"epoch_{epoch + 1:03d}.png"),
            tile_scale(model.image_size),
        )

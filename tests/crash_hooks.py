"""Run as a subprocess: `python cli.py ...` with a pause at one chosen point, for kill -9 tests.

    python -m tests.crash_hooks HOOK MARKER cli-arguments...

HOOK is one of
  after-backup:S      the step-S backup is written (both files renamed into place), then pause;
  in-backup:S         the step-S backup's weights are half written to their temporary file, then pause;
  in-model-save:E     model.keras of epoch E is half written to its temporary file, then pause.
At the pause the hook creates the file MARKER and sleeps, so the test kills the process exactly there.
A "half written" file is the first half of what the real save writes, as a kill during the write
leaves it.
"""

import os
import pathlib
import sys
import time

import keras

import cli
from rbvae_tf import callbacks


def pause(marker):
    pathlib.Path(marker).touch()
    time.sleep(600)


def half_write(save, model, path, **kwargs):
    """Writes what `save(model, path)` writes, then truncates it to half: a save cut off by a kill."""
    save(model, path, **kwargs)
    size = os.path.getsize(path)
    with open(path, "r+b") as f:
        f.truncate(size // 2)


def install(hook, marker):
    kind, _, number = hook.partition(":")
    number = int(number)
    if kind == "after-backup":
        save = callbacks.Backup.save

        def save_then_pause(self, step):
            save(self, step)
            if step == number:
                pause(marker)

        callbacks.Backup.save = save_then_pause
    elif kind == "in-backup":
        save_weights = keras.Model.save_weights

        def cut_save_weights(model, filepath, **kwargs):
            if str(filepath).endswith("latest.tmp.weights.h5") and callbacks.global_step(model) == number:
                half_write(save_weights, model, filepath, **kwargs)
                pause(marker)
            return save_weights(model, filepath, **kwargs)

        keras.Model.save_weights = cut_save_weights
    elif kind == "in-model-save":
        save = keras.Model.save
        calls = []

        def cut_save(model, filepath, **kwargs):
            if str(filepath).endswith(".model.tmp.keras"):
                calls.append(filepath)
                if len(calls) == number:
                    half_write(save, model, filepath, **kwargs)
                    pause(marker)
            return save(model, filepath, **kwargs)

        keras.Model.save = cut_save
    else:
        raise SystemExit(f"unknown hook {hook}")


if __name__ == "__main__":
    install(sys.argv[1], sys.argv[2])
    cli.cli(sys.argv[3:], prog_name="cli.py")

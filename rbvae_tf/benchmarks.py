"""`bench train`: median training-step time per configuration, measured in one run.

Each configuration (model, image size, width, XLA on/off, precision) builds a fresh model from its preset,
runs `warmup` untimed steps (tracing, XLA compilation) and then `steps` timed steps on one random
batch (`time_steps`). The result of each is one flat dict, printed as a Markdown row while
the run goes on and all together as one JSON line at the end, for scripts.

Example:
>>> rows = train_speed("srbvae", "tiny", [16], [0.125], steps=1, jits=[False], warmup=1, log=None)
>>> sorted(rows[0])  # doctest: +NORMALIZE_WHITESPACE
['batch_size', 'cpu', 'cpu_flags', 'image_size', 'img_per_s', 'jit', 'median_step_s', 'model', 'onednn',
 'onednn_chosen_by', 'precision', 'preset', 'steps', 'steps_in_30_min', 'warmup', 'width']
"""

import json

from rbvae_tf.config import FitConfig
from rbvae_tf.data.checks import check_size
from rbvae_tf.errors import UserError
from rbvae_tf.models import MODELS
from rbvae_tf.runtime import check_precision, kernel_info

TABLE_HEADER = (
    "| model | size | width | XLA | precision | s/step | unlabelled img/s | steps in 30 min |\n"
    "|---|---|---|---|---|---|---|---|"
)


def parse_list(text, kind, option):
    """'32,64' -> [32, 64]; a bad item is a UserError naming the option."""
    try:
        values = [kind(item) for item in str(text).split(",")]
    except ValueError:
        raise UserError(f"{option} takes comma-separated {kind.__name__} values, got {text!r}") from None
    return values


def time_steps(config, steps=50, warmup=5):
    """Median seconds per training step of `config` (after `warmup` traced steps) on one random batch."""
    import time

    import keras
    import numpy as np
    import tensorflow as tf

    from rbvae_tf.distribute import get_strategy
    from rbvae_tf.training import make_model  # TensorFlow and the training loop only when measuring

    model = make_model(config, get_strategy(config.replicas))
    rng = np.random.default_rng(0)
    shape = (config.batch_size, config.image_size, config.image_size, 3)
    batch = tuple(tf.constant(rng.uniform(-1, 1, shape).astype(np.float32)) for _ in range(2))
    times = []

    class Clock(keras.callbacks.Callback):
        def on_train_batch_begin(self, batch, logs=None):
            self.start = time.perf_counter()

        def on_train_batch_end(self, batch, logs=None):
            times.append(time.perf_counter() - self.start)

    dataset = tf.data.Dataset.from_tensors(batch).repeat()
    model.fit(dataset, epochs=1, steps_per_epoch=warmup + steps, callbacks=[Clock()], verbose=0, shuffle=False)
    return float(np.median(times[warmup:]))


def measure(model, preset, image_size, width, jit, steps, warmup=5, mixed_precision=None):
    """One configuration: a dict with the median step time and the unlabelled images per second."""
    config = FitConfig(
        model=model, preset=preset, image_size=image_size, width=width, jit=jit, mixed_precision=mixed_precision
    )
    seconds = time_steps(config, steps, warmup)
    return {
        "model": model,
        "preset": preset,
        "image_size": image_size,
        "width": width,
        "batch_size": config.batch_size,
        "jit": bool(jit),
        "precision": mixed_precision or "fp32",
        "steps": steps,
        "warmup": warmup,
        "median_step_s": round(seconds, 4),
        "img_per_s": round(config.batch_size / seconds, 2),
        "steps_in_30_min": int(1800 / seconds),
        **kernel_info(),
    }


def table_row(row):
    return (
        f"| {row['model']} | {row['image_size']} | {row['width']} | {'on' if row['jit'] else 'off'} "
        f"| {row['precision']} | {row['median_step_s']:.3f} | {row['img_per_s']:.1f} | {row['steps_in_30_min']} |"
    )


def train_speed(model, preset, sizes, widths, steps, jits=(False, True), warmup=5, log=print, mixed_precision=None):
    """Measures every (size, width, XLA) combination; `log` gets the Markdown table as it grows.

    Args:
        model: str. A name of `rbvae_tf.models.MODELS`.
        preset: str. The preset that fixes everything else (batch size, latent sizes).
        sizes: list of int. Image sides, each a positive multiple of 16.
        widths: list of float. Channel multipliers, each > 0.
        steps: int. Timed steps per configuration (after `warmup` untimed ones).
        jits: list of bool. XLA settings to measure. Defaults to off and on.
        warmup: int. Untimed steps first. Defaults to 5.
        log: callable or None. Receives the header and each row. Defaults to `print`.
        mixed_precision: str or None. `"bf16"` (`runtime.set_precision`) or None, fp32. Defaults to None.

    Returns:
        list of dict, one per configuration (see `measure`).
    """
    if model not in MODELS:
        raise UserError(f"unknown model {model!r}; choose one of {', '.join(MODELS)}")
    sizes = [check_size(size, "--image-size") for size in sizes]
    if any(width <= 0 for width in widths):
        raise UserError(f"--width values must be > 0, got {widths}")
    if steps < 1 or warmup < 1:
        raise UserError(f"steps and warm-up steps must be >= 1, got {steps} and {warmup}")
    check_precision(mixed_precision)
    log = log or (lambda line: None)
    log(TABLE_HEADER)
    rows = []
    for size in sizes:
        for width in widths:
            for jit in jits:
                rows.append(measure(model, preset, size, width, jit, steps, warmup, mixed_precision))
                log(table_row(rows[-1]))
    return rows


def json_line(rows):
    """The rows as one line of JSON (a list of objects), the last line `bench train` prints."""
    return json.dumps(rows, separators=(", ", ": "))

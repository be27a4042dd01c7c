"""`fit`: data -> model -> a run directory that checkpoints, resumes and rebuilds itself.

RUN_DIR/
  config.json    FitConfig + the model's get_config(): everything needed to rebuild the model
  model.keras    saved each epoch (both optimizers and e_r included)
  history.csv    one row per epoch, `epoch` column 1-based
  status.json    epochs completed, finished or not
  logs/          TensorBoard
  samples/       epoch_NNN.png
  backup/        keras.callbacks.BackupAndRestore (resume after a crash, mid-epoch with `backup_every`)

Under several workers (`TF_CONFIG`, see `rbvae_tf.distribute`) only the chief writes RUN_DIR; every
other worker writes the same files into a temporary folder named after the run (so a restarted
worker finds its backup), removed when training has finished.
"""

import dataclasses
import hashlib
import json
import pathlib
import shutil
import tempfile

import keras
import tensorflow as tf

from rbvae_tf import data as data_lib
from rbvae_tf.callbacks import (
    Backup,
    BranchHealth,
    HistoryCSV,
    SampleGrid,
    SaveRun,
    StopOnInterrupt,
    StopOnNaN,
    global_step,
    write_status,
)
from rbvae_tf.config import FitConfig
from rbvae_tf.distribute import broadcast_from_chief, cluster_from_environment, get_strategy
from rbvae_tf.errors import TrainingDiverged, UserError
from rbvae_tf.files import check_can_create
from rbvae_tf.models import build_model, paper_adam
from rbvae_tf.models.adversarial_base import AdversarialBase
from rbvae_tf.progress import MODES as PROGRESS_MODES
from rbvae_tf.progress import TrainingProgress
from rbvae_tf.runtime import check_precision, kernel_info, set_precision

SAMPLE_IMAGES = 8
HEALTH_IMAGES = 256  # unlabelled and reference images of the per-epoch branch health (~1 s at 32 px)


def read_json(path):
    with open(path) as f:
        return json.load(f)


def is_finished(run_dir):
    status = run_dir / "status.json"
    return status.exists() and read_json(status).get("finished", False)


def resolve_run_dir(out, config):
    """The run directory to use and whether it resumes an unfinished run.

    A finished run is never overwritten: a suffix `-2`, `-3`, ... is added. An unfinished run with
    the same configuration is resumed; one with another configuration is an error.
    """
    base = pathlib.Path(out) if out else pathlib.Path("runs") / f"{config.model}-{config.preset}"
    candidate, n = base, 1
    while is_finished(candidate):
        n += 1
        candidate = base.with_name(f"{base.name}-{n}")
    saved = candidate / "config.json"
    if not saved.exists():
        return candidate, False
    previous = {"padding": "centre", **read_json(saved).get("fit", {})}  # a config.json without the key: centred
    current = json.loads(config.to_json())
    # a field added since the run started (absent there) matches its default, None
    changed = sorted(k for k in set(previous) | set(current) if previous.get(k) != current.get(k))
    if changed:
        raise UserError(
            f"{candidate} holds an unfinished run with other settings ({', '.join(changed)}); "
            "use another --out-dir or the same options to resume it"
        )
    return candidate, True


def load_training_data(config):
    """(make_dataset, steps per epoch, fixed images for the sample grids, (unlabelled, reference)
    images for the branch health), images in [-1, 1].

    `make_dataset()` builds the endless train stream of (x, x_reference) batches afresh: its seeded
    shuffles reshuffle at each new iteration of the same dataset object, so each `model.fit` of a
    run gets a new one, whose batches are those of an uninterrupted run from its first step on.
    """
    if config.reference:  # and config.unlabelled: FitConfig allows only both

        def sources():
            return (
                data_lib.image_folder_dataset(config.unlabelled, config.image_size, shuffle_seed=config.seed),
                data_lib.image_folder_dataset(config.reference, config.image_size, shuffle_seed=config.seed + 1),
            )

        sources()  # bad folders fail now, before any training
        n_unlabelled = len(data_lib.list_images(config.unlabelled))
        samples = data_lib.load_images(data_lib.list_images(config.unlabelled)[:SAMPLE_IMAGES], config.image_size)
        health = tuple(
            data_lib.load_images(data_lib.list_images(folder)[:HEALTH_IMAGES], config.image_size)
            for folder in (config.unlabelled, config.reference)
        )
    else:
        if config.data:  # a built folder: `with_built_data` checked its size and took its build arguments
            folder = config.data
        else:
            folder = data_lib.cached_mnist_style(
                size=config.image_size,
                seed=config.data_seed,
                limit=config.limit,
                mnist_path=config.mnist,
                reference_width=config.reference_width,
                padding=config.padding,
            )
        unlabelled = data_lib.load_split(folder, "unlabelled")["images"]
        reference = data_lib.load_split(folder, "reference")["images"]

        def sources():
            return unlabelled, reference

        n_unlabelled = len(unlabelled)
        samples = unlabelled[:SAMPLE_IMAGES]
        health = (unlabelled[:HEALTH_IMAGES], reference[:HEALTH_IMAGES])
    if n_unlabelled < config.batch_size:
        raise UserError(f"the unlabelled set has {n_unlabelled} images, fewer than one batch of {config.batch_size}")

    def make_dataset():
        return data_lib.train_dataset(*sources(), config.batch_size, seed=config.seed)

    make_dataset()  # checks that the two sources match
    steps = config.steps_per_epoch or n_unlabelled // config.batch_size
    return make_dataset, steps, data_lib.to_unit_range(samples), tuple(data_lib.to_unit_range(h) for h in health)


def with_built_data(config):
    """`config` training on its built `data` folder: checked to be at `config.image_size` (never resized)
    and with the folder's build arguments as its data settings, so that config.json says what was read."""
    if not config.data:
        return config
    size = data_lib.read_built(config.data)["size"]
    meta = data_lib.read_built(
        config.data,
        config.image_size,
        "the run",
        f"train at its size with --image-size {size}, "
        f"or build one with `python cli.py data mnist-style --image-size {config.image_size}`",
    )
    return dataclasses.replace(
        config,
        data=str(pathlib.Path(config.data).expanduser().resolve()),
        mnist=None,
        data_seed=meta["seed"],
        limit=meta["limit"],
        reference_width=meta["reference_width"],
        padding=meta["padding"],
    )


def use_xla(config, strategy):
    """Whether the run compiles its train step with XLA: the config's `jit`, never with several replicas
    (XLA fails under MirroredStrategy on CPU); `"auto"` (the paper preset) turns it on only when a GPU
    is visible, because on the CPUs measured here XLA made the sRb-VAE step slower (docs/performance.md,
    "Training step": 1.1x at 64 px width 1; the 32 px runs are in docs/archive/benchmarks-2026-11.md)."""
    if strategy.num_replicas_in_sync > 1:
        return False
    if config.jit == "auto":
        return bool(tf.config.list_physical_devices("GPU"))
    return bool(config.jit)


def learning_rates(config, total_steps):
    """(model player's, discriminator player's) learning rate: numbers, or Keras schedules of the
    optimizer's step. "cosine" decays each from its value to 0 over `total_steps` (the run's epochs x
    steps per epoch); a resumed run continues on the same curve (the step is in the backup)."""
    rates = (config.learning_rate, config.discriminator_learning_rate or config.learning_rate)
    if config.lr_schedule == "cosine":
        return tuple(keras.optimizers.schedules.CosineDecay(rate, decay_steps=total_steps) for rate in rates)
    return rates


def make_model(config, strategy, total_steps=None):
    """Builds and compiles the model inside the strategy's scope (both optimizers too). `total_steps`:
    the run's epochs x steps per epoch, for a decaying learning rate (default: the config's)."""
    keras.utils.set_random_seed(config.seed)
    jit = use_xla(config, strategy)
    set_precision(config.mixed_precision)
    total_steps = total_steps or config.epochs * (config.steps_per_epoch or 1)
    model_rate, discriminator_rate = learning_rates(config, total_steps)
    with strategy.scope():
        model = build_model(config.model, **config.model_kwargs)
        optimizers = {"optimizer": paper_adam(model_rate)}
        if isinstance(model, AdversarialBase):
            optimizers["discriminator_optimizer"] = paper_adam(discriminator_rate)
        model.compile(jit_compile=jit, **optimizers)
        if not model.optimizer.built:  # its variables too are made in the strategy's scope, before `fit`
            model.optimizer.build(model.trainable_variables)
    return model


def worker_dir(out, config, index):
    """The folder of a non-chief worker: in the temporary folder, named after the run's output path and
    settings, so that the same command finds it again after a crash (and no other run does)."""
    base = pathlib.Path(out) if out else pathlib.Path("runs") / f"{config.model}-{config.preset}"
    key = f"{base.resolve()}\n{config.to_json()}".encode()
    return pathlib.Path(tempfile.gettempdir()) / f"rbvae-worker{index}-{hashlib.sha1(key).hexdigest()[:12]}"


def training_state(model):
    """Every variable a backup restores: the model's (weights, e_r) and its optimizers' (steps, moments)."""
    variables = list(model.variables) + list(model.optimizer.variables)
    if isinstance(model, AdversarialBase):
        variables += list(model.discriminator_optimizer.variables)
    unique = {id(v): v for v in variables}
    return list(unique.values())


def run_epochs(model, make_dataset, step, steps, epochs, callbacks, verbose):
    """`model.fit` from global optimizer step `step` to the end of epoch `epochs`.

    Keras starts every `fit` at the beginning of an epoch, so a backup taken mid-epoch is continued by
    one `fit` over the rest of that epoch, then one over the remaining whole epochs. The batches of
    the whole run are one seeded stream: each `fit` takes a fresh one (`make_dataset()`) and skips to
    its own first step, so a resumed run sees the data of an uninterrupted one (tested: the same weights).
    """
    epoch, done = divmod(step, steps)
    parts = []
    if done:  # the rest of a part-done epoch
        parts.append((epoch, epoch + 1, steps - done, step))
        epoch += 1
    if epoch < epochs:
        parts.append((epoch, epochs, steps, epoch * steps))
    for first_epoch, last_epoch, length, first_step in parts:
        model.fit(
            make_dataset().skip(first_step),
            initial_epoch=first_epoch,
            epochs=last_epoch,
            steps_per_epoch=length,
            callbacks=callbacks,
            verbose=verbose,
            shuffle=False,
        )
        if callbacks[-1].requested:  # Ctrl-C: stopped after this epoch was saved
            break


def fit(config: FitConfig, out=None, verbose=None, extra_callbacks=(), backup_every=None, progress="compact"):
    """Trains `config.model` and returns the run directory (a `pathlib.Path`).

    Re-running with the same config and directory after an interruption resumes from the last
    backup: the last finished epoch, or with `backup_every=N` the last multiple of N steps. Under
    several workers (TF_CONFIG) a non-chief worker returns its temporary folder, removed once the
    run has finished. Raises `UserError` for bad input and `TrainingDiverged` if the loss becomes NaN.

    `progress` is the display (`rbvae_tf.progress`): `compact` (a short line per step, one per
    epoch), `full` (Keras' line of every value), `epoch` (the epoch lines) or `none`; `verbose=0`
    is `none`. history.csv and TensorBoard get every value whatever the display.
    """
    if verbose is not None and not verbose:
        progress = "none"
    if progress not in PROGRESS_MODES:
        raise UserError(f"progress must be one of {', '.join(PROGRESS_MODES)}, got {progress!r}")
    if config.batch_size % config.replicas:
        raise UserError(f"--batch-size {config.batch_size} is not divisible by --replicas {config.replicas}")
    if backup_every is not None and backup_every < 1:
        raise UserError(f"--backup-every must be >= 1 step, got {backup_every}")
    check_precision(config.mixed_precision)  # before the data is built
    config = with_built_data(config)
    cluster = cluster_from_environment()
    strategy = get_strategy(config.replicas, cluster)  # first: MultiWorkerMirroredStrategy needs a fresh runtime
    replicas = strategy.num_replicas_in_sync
    if config.batch_size % replicas:
        raise UserError(f"--batch-size {config.batch_size} is not divisible by the {replicas} replicas of the workers")
    chief = cluster is None or cluster[2]
    if chief:
        run_dir, resuming = resolve_run_dir(out, config)
        check_can_create(run_dir)  # before the data is loaded
    else:
        run_dir, resuming = worker_dir(out, config, cluster[1]), True
    make_dataset, steps, samples, health = load_training_data(config)
    run_dir.mkdir(parents=True, exist_ok=True)
    model = make_model(config, strategy, total_steps=config.epochs * steps)
    backup = Backup(run_dir / "backup", steps, backup_every)
    if resuming:
        backup.restore(model)
    broadcast_from_chief(strategy, training_state(model))  # the whole group continues from the chief's backup
    step = global_step(model)
    if step:
        print(f"resumed from epoch {step // steps}, step {step} in {run_dir}")
    else:
        (run_dir / "config.json").write_text(
            json.dumps(
                {"fit": json.loads(config.to_json()), "model_config": model.get_config(), "kernels": kernel_info()},
                indent=2,
            )
        )
        write_status(run_dir, 0, False)
    role = "" if cluster is None else f" (worker {cluster[1]} of {cluster[0]}{', chief' if chief else ''})"
    print(
        f"training on {replicas} replica{'s' if replicas > 1 else ''}{role}: {config.model} "
        f"({config.preset} budget) into {run_dir}"
    )
    callbacks = [
        StopOnNaN(),
        BranchHealth(*health, seed=config.seed),  # before the callbacks that write the logs
        HistoryCSV(str(run_dir / "history.csv")),
        SaveRun(str(run_dir), config.epochs),
        SampleGrid(str(run_dir), samples, seed=config.seed),
        keras.callbacks.TensorBoard(str(run_dir / "logs"), write_graph=False, update_freq="epoch"),
        backup,  # after the history row and model.keras: a resumed epoch is always written again
        *extra_callbacks,
        *([TrainingProgress(steps, progress)] if progress in ("compact", "epoch") else []),  # after BranchHealth
        StopOnInterrupt(),  # last: its epoch ends after the checkpoint, the backup and the history row
    ]
    callbacks[-1].install()
    try:
        run_epochs(model, make_dataset, step, steps, config.epochs, callbacks, 1 if progress == "full" else 0)
    finally:
        callbacks[-1].uninstall()
    if not chief and is_finished(run_dir):
        shutil.rmtree(run_dir, ignore_errors=True)
    return run_dir


__all__ = ["TrainingDiverged", "fit", "make_model", "resolve_run_dir"]

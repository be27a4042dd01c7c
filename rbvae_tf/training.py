"""`fit`: data -> model -> a run directory that checkpoints, resumes and rebuilds itself.

RUN_DIR/
  config.json    FitConfig + the model's get_config(): everything needed to rebuild the model
  model.keras    saved each epoch (both optimizers and e_r included)
  history.csv    one row per epoch, `epoch` column 1-based
  status.json    epochs completed, finished or not
  logs/          TensorBoard
  samples/       epoch_NNN.png
  backup/        keras.callbacks.BackupAndRestore (resume after a crash)
"""

import json
import pathlib

import keras

from rbvae_tf import data as data_lib
from rbvae_tf.callbacks import (BranchHealth, HistoryCSV, SampleGrid, SaveRun, StopOnInterrupt, StopOnNaN,
                                write_status)
from rbvae_tf.config import FitConfig
from rbvae_tf.distribute import get_strategy
from rbvae_tf.errors import TrainingDiverged, UserError
from rbvae_tf.files import check_can_create
from rbvae_tf.models import build_model, paper_adam
from rbvae_tf.models.adversarial_base import AdversarialBase

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
    previous = read_json(saved).get("fit", {})
    current = json.loads(config.to_json())
    if previous != current:
        changed = sorted(k for k in set(previous) | set(current) if previous.get(k) != current.get(k))
        raise UserError(f"{candidate} holds an unfinished run with other settings ({', '.join(changed)}); "
                        "use another --out or the same options to resume it")
    return candidate, True


def load_training_data(config):
    """(train dataset of (x, x_reference) batches, steps per epoch, fixed images for the sample grids,
    (unlabelled, reference) images for the branch health), images in [-1, 1]."""
    if config.reference or config.unlabelled:
        if not (config.reference and config.unlabelled):
            raise UserError("--reference and --unlabelled go together")
        unlabelled = data_lib.image_folder_dataset(config.unlabelled, config.image_size, shuffle_seed=config.seed)
        reference = data_lib.image_folder_dataset(config.reference, config.image_size, shuffle_seed=config.seed + 1)
        n_unlabelled = len(data_lib.list_images(config.unlabelled))
        samples = data_lib.load_images(data_lib.list_images(config.unlabelled)[:SAMPLE_IMAGES], config.image_size)
        health = tuple(data_lib.load_images(data_lib.list_images(folder)[:HEALTH_IMAGES], config.image_size)
                       for folder in (config.unlabelled, config.reference))
    else:
        folder = data_lib.cached_mnist_style(size=config.image_size, seed=config.data_seed, limit=config.limit,
                                             mnist_path=config.mnist, reference_width=config.reference_width)
        unlabelled = data_lib.load_split(folder, "unlabelled")["images"]
        reference = data_lib.load_split(folder, "reference")["images"]
        n_unlabelled = len(unlabelled)
        samples = unlabelled[:SAMPLE_IMAGES]
        health = (unlabelled[:HEALTH_IMAGES], reference[:HEALTH_IMAGES])
    if n_unlabelled < config.batch_size:
        raise UserError(f"the unlabelled set has {n_unlabelled} images, fewer than one batch of {config.batch_size}")
    dataset = data_lib.train_dataset(unlabelled, reference, config.batch_size, seed=config.seed)
    steps = config.steps_per_epoch or n_unlabelled // config.batch_size
    return dataset, steps, data_lib.to_unit_range(samples), tuple(data_lib.to_unit_range(h) for h in health)


def make_model(config, strategy):
    """Builds and compiles the model inside the strategy's scope (both optimizers too)."""
    keras.utils.set_random_seed(config.seed)
    jit = bool(config.jit) and strategy.num_replicas_in_sync == 1
    with strategy.scope():
        model = build_model(config.model, **config.model_kwargs)
        optimizers = {"optimizer": paper_adam(config.learning_rate)}
        if isinstance(model, AdversarialBase):
            optimizers["discriminator_optimizer"] = paper_adam(config.learning_rate)
        model.compile(jit_compile=jit, **optimizers)
    return model


def fit(config: FitConfig, out=None, verbose=1, extra_callbacks=()):
    """Trains `config.model` and returns the run directory (a `pathlib.Path`).

    Re-running with the same config and directory after an interruption resumes from the last
    finished epoch. Raises `UserError` for bad input and `TrainingDiverged` if the loss becomes NaN.
    """
    if config.batch_size % config.replicas:
        raise UserError(f"--batch-size {config.batch_size} is not divisible by --replicas {config.replicas}")
    strategy = get_strategy(config.replicas)
    run_dir, resuming = resolve_run_dir(out, config)
    check_can_create(run_dir)  # before the data is loaded
    dataset, steps, samples, health = load_training_data(config)
    run_dir.mkdir(parents=True, exist_ok=True)
    model = make_model(config, strategy)
    backup = run_dir / "backup"
    if resuming and (backup / "training_metadata.json").exists():
        epoch = read_json(backup / "training_metadata.json")["epoch"]  # epochs finished; steps per epoch fixed
        # The batches of the whole run are one seeded stream: continue it where the saved epoch ended,
        # so a resumed run sees the data of an uninterrupted one (tested: the same final weights).
        dataset = dataset.skip(epoch * steps)
        print(f"resumed from epoch {epoch}, step {epoch * steps} in {run_dir}")
    else:
        (run_dir / "config.json").write_text(json.dumps(
            {"fit": json.loads(config.to_json()), "model_config": model.get_config()}, indent=2))
        write_status(run_dir, 0, False)
    replicas = strategy.num_replicas_in_sync
    print(f"training on {replicas} replica{'s' if replicas > 1 else ''}: {config.model} "
          f"({config.preset} preset) into {run_dir}")
    callbacks = [
        StopOnNaN(),
        BranchHealth(*health, seed=config.seed),  # before the callbacks that write the logs
        keras.callbacks.BackupAndRestore(str(backup), double_checkpoint=True, delete_checkpoint=False),
        HistoryCSV(str(run_dir / "history.csv")),
        SaveRun(str(run_dir), config.epochs),
        SampleGrid(str(run_dir), samples, seed=config.seed),
        keras.callbacks.TensorBoard(str(run_dir / "logs"), write_graph=False, update_freq="epoch"),
        *extra_callbacks,
        StopOnInterrupt(),  # last: its epoch ends after the checkpoint, the backup and the history row
    ]
    callbacks[-1].install()
    try:
        model.fit(dataset, epochs=config.epochs, steps_per_epoch=steps, callbacks=callbacks, verbose=verbose,
                  shuffle=False)
    finally:
        callbacks[-1].uninstall()
    return run_dir


__all__ = ["TrainingDiverged", "fit", "make_model", "resolve_run_dir"]

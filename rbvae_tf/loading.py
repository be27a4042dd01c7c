"""Finding and loading a trained model from what a user types: a run directory, a `.keras` file
or the name of a preset in `zoo/`; and what a loaded run's fit config says about its data."""

import json
import pathlib

import keras

from rbvae_tf.errors import UserError
from rbvae_tf.presets import zoo_dir

REPO = pathlib.Path(__file__).resolve().parents[1]
ZOO = zoo_dir()  # $RBVAE_ZOO, else zoo/ beside the package (the checkout's, or the installed copy)


def latest_finished_run(runs="runs"):
    """The most recently finished run directory under `runs/` (by status.json time), or UserError."""
    finished = []
    for status in pathlib.Path(runs).glob("*/status.json"):
        try:
            if json.loads(status.read_text()).get("finished") and (status.parent / "model.keras").exists():
                finished.append((status.stat().st_mtime, status.parent))
        except (OSError, ValueError):
            continue
    if not finished:
        raise UserError(f"no finished run under {runs}/; train one with `python cli.py fit` or name a MODEL")
    return max(finished)[1]


def _load_keras(path):
    from rbvae_tf.models import MODELS, LatentModel

    try:
        model = keras.models.load_model(path, safe_mode=True)  # never runs a lambda's code
    except Exception as error:  # a corrupt or foreign file: one line for the user
        raise UserError(f"cannot load model {path}: {str(error).splitlines()[0][:200]}") from None
    if not isinstance(model, LatentModel):
        raise UserError(f"{path} is a {type(model).__name__}, not an rbvae_tf model ({', '.join(MODELS)})")
    return model


def load_trained(spec):
    """Loads a model; returns `(model, info)` with info = {"name", "path", "fit" (dict or None)}.

    `spec` is a run directory (containing model.keras), a `.keras` file, or a preset name/folder
    of `zoo/` (config.json + model.weights.h5).
    """
    path = pathlib.Path(spec)
    if not path.exists() and (ZOO / spec / "config.json").exists():
        path = ZOO / spec
    if path.is_dir() and (path / "model.keras").exists():
        fit = json.loads((path / "config.json").read_text()).get("fit") if (path / "config.json").exists() else None
        return _load_keras(path / "model.keras"), {"name": path.name, "path": str(path), "fit": fit}
    if path.is_dir() and (path / "model.weights.h5").exists():
        return from_preset(path)
    if path.is_file() and path.suffix == ".keras":
        return _load_keras(path), {"name": path.stem, "path": str(path), "fit": None}
    raise UserError(
        f"no model at {spec!r}: expected a run directory with model.keras, a .keras file "
        f"or a preset name ({', '.join(available_presets()) or 'none installed'})"
    )


def available_presets():
    return sorted(p.parent.name for p in ZOO.glob("*/config.json"))


def from_preset(name_or_path):
    """A zoo preset: `config.json` (model class + config) and `model.weights.h5`. Returns (model, info)."""
    path = pathlib.Path(name_or_path)
    if not path.exists():
        path = ZOO / name_or_path
    config_file = path / "config.json"
    if not config_file.exists():
        raise UserError(f"unknown preset {name_or_path!r}; available: {', '.join(available_presets()) or 'none'}")
    config = json.loads(config_file.read_text())
    model = keras.saving.deserialize_keras_object(config["model"])
    try:
        model.load_weights(path / "model.weights.h5")
    except Exception as error:
        raise UserError(f"cannot load weights of preset {path}: {str(error).splitlines()[0][:200]}") from None
    return model, {"name": path.name, "path": str(path), "fit": config.get("fit")}


def save_preset(model, directory, fit=None, metadata=None, kernels=None):
    """Writes a zoo preset: `config.json` (model class + config, fit config and, if given, the run's
    `kernels` record), `model.weights.h5` (model weights only, no optimizer state) and `metadata.json`.
    The card (README.md) is the caller's. Loaded back with `from_preset(directory)`."""
    directory = pathlib.Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    clean = type(model).from_config(model.get_config())  # not compiled: no optimizer state in the file
    clean.set_weights(model.get_weights())
    clean.save_weights(directory / "model.weights.h5")
    config = {
        "model": keras.saving.serialize_keras_object(clean),
        "fit": fit,
        **({"kernels": kernels} if kernels else {}),
    }
    (directory / "config.json").write_text(json.dumps(config, indent=2))
    (directory / "metadata.json").write_text(json.dumps(metadata or {}, indent=2))
    return directory


# --- the run's data, from its fit config (info['fit'] of load_trained) ---------------------


def mnist_style_source(model, info=None, data=None, mnist=None, data_seed=None, limit=None, reference_width=1):
    """The MNIST-style folder that a command reads for `model`, and the cap to apply when reading it.

    `data` (a folder of `python cli.py data mnist-style`, checked: built at the model's size), else
    the built folder the run trained on (its fit config's `data`) unless `mnist` or `data_seed` ask
    for another build, else the cached build of the given or the run's settings (`data_options`), drawn
    with the run's padding (`padding_of`).

    Returns:
        (pathlib.Path, int or None): the folder and the `limit` of `data.load_split` (None for a
        cached build, which is already capped).
    """
    from rbvae_tf import data as data_lib

    fit = (info or {}).get("fit") or {}
    if data is None and mnist is None and data_seed is None:
        data = fit.get("data")
    if data is not None:
        data_lib.read_built(data, model.image_size, f"model {(info or {}).get('name') or ''}".rstrip())
        return pathlib.Path(data).expanduser(), limit
    mnist, data_seed = data_options(info, mnist, data_seed)
    folder = data_lib.cached_mnist_style(
        size=model.image_size,
        seed=data_seed,
        limit=limit,
        mnist_path=mnist,
        reference_width=reference_width,
        padding=padding_of(info),
    )
    return folder, None


def data_options(info, mnist=None, data_seed=None):
    """MNIST source and data seed: the given values, else those of the run's fit config, else defaults.

    A model trained on image folders gets no MNIST-style data unless `mnist` is given.
    """
    fit = (info or {}).get("fit") or {}
    if mnist is None and (fit.get("reference") or fit.get("unlabelled")):
        raise UserError(
            f"{(info or {}).get('name') or 'this model'} was trained on image folders, so MNIST-style "
            "probe images do not fit it: give your own (evaluate --probe DIR, generate --images, "
            "transfer --content/--style) or --mnist to use MNIST-style data anyway"
        )
    return (
        mnist if mnist is not None else fit.get("mnist"),
        data_seed if data_seed is not None else int(fit.get("data_seed") or 0),
    )


def padding_of(info):
    """Where the run's MNIST-style digits sit in their zero padding ("centre", the default, when unknown)."""
    fit = (info or {}).get("fit") or {}
    return fit.get("padding") or "centre"


def reference_width_of(info):
    """The reference outline width the run was trained with (1, the paper's, when unknown)."""
    fit = (info or {}).get("fit") or {}
    return int(fit.get("reference_width") or 1)

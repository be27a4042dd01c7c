"""The research runs as data: research/experiments/*.toml read into typed runs, and their `cli.py fit` commands.

A study file holds one table per run (the format is written at the top of each file):

    [runs.r10-lr3e4]
    model = "srbvae"
    parent = "r07-er100"
    change = "learning rate 3e-4 for both players (the VAE's best at 2,400 steps)"
    fit = { reference_width = 3, learning_rate = 3e-4 }
    model_args = { weight_z_invariance = 10000, weight_reference_target = 100 }

`Run.config` is the run's `FitConfig`; `fit_command(run, runs, root)` the command that trains it, the
one `python -m research.ablations run` executes and the report prints.

Example:
>>> runs = load_runs(EXPERIMENTS / "ablations.toml")
>>> " ".join(fit_command(runs["r10-lr3e4"], runs, "runs/ablations"))  # doctest: +NORMALIZE_WHITESPACE
'python cli.py fit --model srbvae --budget cpu --reference-width 3 --model-arg weight_z_invariance=10000
 --model-arg weight_reference_target=100 --lr 3e-4 --out-dir runs/ablations/r10-lr3e4'
"""

import dataclasses
import pathlib
import tomllib

from rbvae_tf.config import FitConfig

EXPERIMENTS = pathlib.Path(__file__).resolve().parent / "experiments"
MODEL_ARGS = "model_args"  # the place of the model arguments among the options of a command

# FitConfig field -> its `cli.py fit` option (`jit`: a flag pair, --jit / --no-jit).
FLAGS = {
    "data": "--data",
    "mnist": "--mnist",
    "data_seed": "--data-seed",
    "limit": "--limit",
    "reference": "--reference",
    "unlabelled": "--unlabelled",
    "image_size": "--image-size",
    "width": "--width",
    "target_dim": "--target-dim",
    "common_dim": "--common-dim",
    "batch_size": "--batch-size",
    "reference_width": "--reference-width",
    "padding": "--padding",
    "learning_rate": "--lr",
    "discriminator_learning_rate": "--discriminator-lr",
    "lr_schedule": "--lr-schedule",
    "epochs": "--epochs",
    "steps_per_epoch": "--steps-per-epoch",
    "jit": "--jit",
    "mixed_precision": "--mixed-precision",
    "replicas": "--replicas",
    "seed": "--seed",
}
# The order of a new run's options: the data, the networks, the objective (reference width, model
# arguments), the optimisation, the length, and the training seed last.
ORDER = (
    "data",
    "mnist",
    "data_seed",
    "limit",
    "padding",
    "reference",
    "unlabelled",
    "image_size",
    "width",
    "target_dim",
    "common_dim",
    "batch_size",
    "reference_width",
    MODEL_ARGS,
    "learning_rate",
    "discriminator_learning_rate",
    "lr_schedule",
    "epochs",
    "steps_per_epoch",
    "jit",
    "mixed_precision",
    "replicas",
    "seed",
)
RUN_KEYS = {"model", "parent", "change", "budget", "fit", "model_args", "trained_before"}


@dataclasses.dataclass(frozen=True)
class Run:
    """One research run.

    Args:
        name: str. The run's folder name (runs/ablations/NAME) and record name.
        model: str. A model of `rbvae_tf.models.MODELS`.
        change: str. What changes against `parent`, as the report says it.
        parent: str or None. The run this one changes. Defaults to None.
        budget: str. The training budget (`FitConfig.preset`). Defaults to "cpu".
        fit: dict. The run's own `FitConfig` overrides. Defaults to {}.
        model_args: dict. The run's own model arguments. Defaults to {}.
        defaults: dict. `{"fit": ..., "model_args": ...}`: the study's defaults that the run does not set.
        trained_before: str or None. How an earlier version of the code trained the run (it is only
            evaluated). Defaults to None.
    """

    name: str
    model: str
    change: str
    parent: str = None
    budget: str = "cpu"
    fit: dict = dataclasses.field(default_factory=dict)
    model_args: dict = dataclasses.field(default_factory=dict)
    defaults: dict = dataclasses.field(default_factory=lambda: {"fit": {}, "model_args": {}})
    trained_before: str = None

    def __post_init__(self):
        self.config  # FitConfig refuses an unknown budget or learning-rate schedule at once

    @property
    def config(self):
        """The run's `FitConfig`: the budget, the study's defaults, then the run's own settings."""
        return FitConfig(
            model=self.model,
            preset=self.budget,
            **{**self.defaults["fit"], **self.fit},
            model_args={**self.defaults["model_args"], **self.model_args},
        )


def load_runs(path):
    """{name: Run} of a study file, in the file's order. Raises ValueError for an unknown key, a setting
    that is not a `FitConfig` field, an unknown parent, or a configuration that `FitConfig` refuses."""
    study = tomllib.loads(pathlib.Path(path).read_text())
    fields = {f.name for f in dataclasses.fields(FitConfig)} - {"model", "preset", "model_args"}
    defaults = study.get("defaults", {})
    runs = {}
    for name, table in study.get("runs", {}).items():
        unknown = set(table) - RUN_KEYS
        if unknown:
            raise ValueError(f"{path}: run {name} has unknown keys {sorted(unknown)}; allowed: {sorted(RUN_KEYS)}")
        fit = table.get("fit", {})
        if set(fit) - fields:
            raise ValueError(f"{path}: run {name}: {sorted(set(fit) - fields)} are not FitConfig fields")
        model = table["model"]
        own_defaults = {
            "fit": {k: v for k, v in defaults.get("fit", {}).items() if k not in fit},
            "model_args": {
                k: v
                for k, v in defaults.get("model_args", {}).get(model, {}).items()
                if k not in table.get("model_args", {})
            },
        }
        runs[name] = Run(
            name,
            model,
            table["change"],
            table.get("parent"),
            table.get("budget", defaults.get("budget", "cpu")),
            fit,
            table.get("model_args", {}),
            own_defaults,
            table.get("trained_before"),
        )
    for run in runs.values():
        if run.parent is not None and run.parent not in runs:
            raise ValueError(f"{path}: run {run.name}: unknown parent {run.parent!r}")
    return runs


def value_text(value):
    """A setting as the command line spells it; `json.loads` (how `cli.py` reads --model-arg) gives it back:
    true/false, integers as they are, small numbers as 3e-4, other numbers as Python writes them."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value != 0 and abs(value) < 1e-3:
        digits = next(p for p in range(17) if float(f"{value:.{p}e}") == value)
        mantissa, exponent = f"{value:.{digits}e}".split("e")
        return f"{mantissa}e{int(exponent)}"
    return repr(value) if isinstance(value, float) else str(value)


def _own(run):
    """The run's own settings as [(key, value)] in `ORDER`; a model argument's key is ("model_args", NAME)."""
    items = []
    for key in ORDER:
        if key == MODEL_ARGS:
            items += [((MODEL_ARGS, k), v) for k, v in run.model_args.items()]
        elif key in run.fit:
            items.append((key, run.fit[key]))
    return items


def _order(run, runs):
    """The keys of the run's own settings in command order: its parent's order (a changed value in place, a
    setting the run drops left out), then its new settings in `ORDER`, the training seed always last."""
    own = [key for key, _ in _own(run)]
    if run.parent is None:
        return own
    inherited = [key for key in _order(runs[run.parent], runs) if key in own and key != "seed"]
    return (
        inherited + [key for key in own if key not in inherited and key != "seed"] + (["seed"] if "seed" in own else [])
    )


def arguments(run, runs):
    """[(key, value)] of the run in command order: its own settings (`_order`), then the study's defaults that
    it does not set (the settings in `ORDER`, then the model arguments)."""
    own = dict(_own(run))
    defaults = [(k, run.defaults["fit"][k]) for k in ORDER if k in run.defaults["fit"]]
    return (
        [(key, own[key]) for key in _order(run, runs)]
        + defaults
        + [((MODEL_ARGS, k), v) for k, v in run.defaults["model_args"].items()]
    )


def options(items):
    """`cli.py fit` options of [(key, value)] (a `FitConfig` field, or ("model_args", NAME))."""
    words = []
    for key, value in items:
        if isinstance(key, tuple):
            words += ["--model-arg", f"{key[1]}={value_text(value)}"]
        elif key == "jit":
            words.append("--jit" if value else "--no-jit")
        else:
            words += [FLAGS[key], value_text(value)]
    return words


def command(model, budget, items, out_dir):
    """The `cli.py fit` command (a list of words) that trains `model` at `budget` with the settings `items`
    ([(key, value)] in the order to write them) into `out_dir`."""
    return ["python", "cli.py", "fit", "--model", model, "--budget", budget, *options(items), "--out-dir", str(out_dir)]


def fit_command(run, runs, root):
    """The `cli.py fit` command that trains `run` (of the study `runs`) into ROOT/NAME."""
    return command(run.model, run.budget, arguments(run, runs), pathlib.Path(root) / run.name)

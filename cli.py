"""rbvae_tf command line: a thin click front over the library.

Every command parses options and calls one library function. Bad input raises
`rbvae_tf.UserError`, printed here as one line on stderr with exit status 2.

Nothing here imports TensorFlow (nor `rbvae_tf`, whose `__init__` does) before a command runs, so
`--help` and `--version` answer at once; `load_library()` imports both when a command starts.
"""

import functools
import importlib.util
import json
import os
import pathlib
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import click  # noqa: E402
from click.core import ParameterSource  # noqa: E402

# The names that options offer, here so that `--help` needs no TensorFlow; tests/test_cli_help.py checks
# that they are the library's (rbvae_tf.models.MODELS, rbvae_tf.config.PRESETS, rbvae_tf.progress.MODES).
MODEL_NAMES = ("vae", "beta-vae", "dip-vae-i", "dip-vae-ii", "svae", "rbvae", "srbvae")
BUDGETS = ("tiny", "cpu", "paper")
PROGRESS_MODES = ("compact", "full", "epoch", "none")
LR_SCHEDULE_NAMES = ("constant", "cosine")  # rbvae_tf.config.LR_SCHEDULES (a test keeps them equal)
PADDINGS = ("centre", "corner")  # rbvae_tf.data.render.PADDINGS (a test keeps them equal)


def package_version():
    """rbvae_tf.__version__, read from rbvae_tf/_version.py without running rbvae_tf/__init__."""
    package = importlib.util.find_spec("rbvae_tf")  # locates the package, imports nothing
    path = pathlib.Path(next(iter(package.submodule_search_locations))) / "_version.py"
    spec = importlib.util.spec_from_file_location("_rbvae_tf_version", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.__version__


@functools.cache
def load_library():
    """Imports rbvae_tf and TensorFlow, once. TensorFlow's C++ start-up lines (CUDA probing, absl) go
    straight to fd 2, whatever the log level: silence them while the packages load, so that errors
    stay one line. `rbvae_tf` first: its `__init__` sets TensorFlow's environment before importing it."""
    saved = os.dup(2)
    with open(os.devnull, "w") as devnull:
        os.dup2(devnull.fileno(), 2)
        try:
            import tensorflow as tf

            import rbvae_tf  # noqa: F401

            tf.config.list_physical_devices()
        finally:
            os.dup2(saved, 2)
            os.close(saved)


def user_errors(command):
    """Loads the library, then turns UserError into `error: ...` and exit 2 (TrainingDiverged: exit 1)."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        load_library()
        from rbvae_tf.errors import TrainingDiverged, UserError

        try:
            return command(*args, **kwargs)
        except UserError as error:
            click.echo(f"error: {error}", err=True)
            sys.exit(2)
        except TrainingDiverged as error:
            click.echo(f"error: {error}", err=True)
            sys.exit(1)

    return wrapper


def fail(message):
    """A bad input found by the command line itself: `error: message`, exit 2 (via OneLineErrors)."""
    raise click.UsageError(message)


class OneLineErrors(click.Group):
    """click's usage errors (a bad option value, an unknown choice) as one line `error: ...`, exit 2."""

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        try:
            status = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except getattr(click.exceptions, "NoArgsIsHelpError", ()) as error:  # no command: the help, as click does
            error.show()
            sys.exit(error.exit_code)
        except click.ClickException as error:
            click.echo(f"error: {error.format_message()}", err=True)
            sys.exit(error.exit_code)
        except click.Abort:
            click.echo("error: aborted", err=True)
            sys.exit(1)
        if not standalone_mode:
            return status
        sys.exit(status if isinstance(status, int) else 0)


def option(*declarations, example, **kwargs):
    """`click.option` whose help ends with an example of its use (every option has one: tests check)."""
    kwargs["help"] = f"{kwargs['help']} E.g. {example}"
    return click.option(*declarations, **kwargs)


def given(name):
    """Whether the user typed option `name` (not its default nor an environment variable)."""
    return click.get_current_context().get_parameter_source(name) is ParameterSource.COMMANDLINE


@click.group(cls=OneLineErrors, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_version(), "--version", prog_name="rbvae_tf", message="%(prog)s %(version)s")
def cli():
    """Reference-based disentangling (Rb-VAE, sRb-VAE and baselines) with Keras 3.

    \b
    python cli.py fit                               # train sRb-VAE (the cpu budget) into runs/
    python cli.py evaluate --out-dir eval           # Table-1 probes of the latest finished run
    python cli.py transfer --grid 6 --out grid.png  # attribute transfer (paper Fig. 4)
    python cli.py COMMAND --help                    # every option of COMMAND, with an example
    """


# --- options shared by several commands ---------------------------------------------------------


def mnist_option(default="~/.keras/datasets/mnist.npz, else the bundled copy"):
    return option(
        "--mnist",
        type=click.Path(),
        envvar="RBVAE_MNIST",
        show_envvar=True,
        help=f"MNIST to build the MNIST-style data from: mnist.npz or a folder of the four IDX files "
        f"[default: {default}].",
        example="--mnist ~/data/mnist.npz",
    )


def padding_option():
    return option(
        "--padding",
        type=click.Choice(PADDINGS),
        default="centre",
        show_default=True,
        help="Where a shrunk digit sits in its zero padding (App. C.1): centre, or the top-left corner.",
        example="--padding corner",
    )


def data_option(default=None):
    return option(
        "--data",
        type=click.Path(file_okay=False),
        help="A folder built by `data mnist-style` to read instead of building one; it must be built at "
        f"the model's image size{f' [default: {default}]' if default else ''}.",
        example="--data data/ms32",
    )


def probe_data_options(command):
    """--data, --mnist, --data-seed and --limit of the commands that read the MNIST-style probe splits."""
    command = option(
        "--limit",
        type=click.IntRange(min=0),
        help="Cap on the images of each split (quick runs).",
        example="--limit 500",
    )(command)
    command = option(
        "--data-seed",
        type=click.IntRange(min=0),
        help="Seed of the MNIST-style data [default: the run's, else 0].",
        example="--data-seed 1",
    )(command)
    command = mnist_option("the run's, else ~/.keras/datasets/mnist.npz, else the bundled copy")(command)
    return data_option("the run's, if it trained on one")(command)


# --- data ---------------------------------------------------------------------------------------


@cli.group(short_help="Build data sets.")
def data():
    """Build data sets."""


@data.command("mnist-style", short_help="Build the MNIST-style data set (paper Sec. 5.1).")
@option(
    "--out-dir",
    type=click.Path(file_okay=False),
    required=True,
    help="Folder to write: one .npz per split and meta.json, the build arguments.",
    example="--out-dir data/ms32",
)
@option(
    "--image-size",
    type=int,
    default=64,
    show_default=True,
    help="Image side in pixels, a multiple of 16.",
    example="--image-size 32",
)
@option(
    "--data-seed",
    type=int,
    default=0,
    show_default=True,
    help="Seed of the factors and of the probe split.",
    example="--data-seed 1",
)
@option(
    "--limit", type=int, default=None, help="Cap on the images of each split [default: no cap].", example="--limit 1000"
)
@mnist_option()
@option("--preview", is_flag=True, help="Also write preview.png (paper Fig. 5).", example="--preview")
@option(
    "--reference-width",
    type=click.IntRange(1, 10),
    default=1,
    show_default=True,
    help="Outline width of the reference images at 64 px (1: the paper; the cpu budget trains on 3).",
    example="--reference-width 3",
)
@padding_option()
@user_errors
def mnist_style(out_dir, image_size, data_seed, limit, mnist, preview, reference_width, padding):
    """Build the MNIST-style data set (paper Sec. 5.1) into --out-dir: one .npz per split, meta.json.

    fit, evaluate, generate and transfer read the folder with --data DIR; its meta.json records the
    build arguments, and a folder built at another image size than a command needs is an error.

    \b
    Example:
      python cli.py data mnist-style --out-dir data/ms32 --image-size 32 --reference-width 3
      python cli.py fit --data data/ms32
    """
    import time

    from rbvae_tf.data import make_mnist_style
    from rbvae_tf.data.checks import check_size

    check_size(image_size, "--image-size")
    started = time.perf_counter()
    written = make_mnist_style(out_dir, image_size, data_seed, limit, mnist, preview, reference_width, padding)
    click.echo(f"built in {time.perf_counter() - started:.1f} s, wrote:")
    for path in written:
        click.echo(f"  {path} ({path.stat().st_size / 1e6:.1f} MB)")


# --- fit ----------------------------------------------------------------------------------------


def parse_model_args(pairs):
    """`KEY=VALUE` pairs -> dict, values parsed as JSON when they can be (numbers, booleans)."""
    parsed = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            fail(f"--model-arg takes KEY=VALUE, got {pair!r}")
        try:
            parsed[key] = json.loads(value)
        except ValueError:
            parsed[key] = value
    return parsed


# how to build MNIST-style data: not with --data
BUILD_OPTIONS = ("mnist", "data_seed", "limit", "reference_width", "padding")


@cli.command(short_help="Train a model (default: sRb-VAE, cpu budget).")
@option(
    "--model",
    default="srbvae",
    show_default=True,
    type=click.Choice(MODEL_NAMES),
    help="Model to train.",
    example="--model rbvae",
)
@option(
    "--budget",
    default="cpu",
    show_default=True,
    type=click.Choice(BUDGETS),
    help="Training budget: image size, width, latents, epochs, steps and batch (tiny: a smoke test; "
    "cpu: the zoo's, 32 px; paper: Sec. 5.2, 64 px, 30 epochs). Other options override its values.",
    example="--budget tiny",
)
@option(
    "--out-dir",
    type=click.Path(file_okay=False),
    help="Run directory; an unfinished run there with the same options resumes [default: runs/<model>-<budget>].",
    example="--out-dir runs/mine",
)
@option("--epochs", type=click.IntRange(min=1), help="Epochs [default: the budget's].", example="--epochs 10")
@option(
    "--steps-per-epoch",
    type=click.IntRange(min=1),
    help="Optimizer steps per epoch [default: the budget's; paper: one pass over the unlabelled set].",
    example="--steps-per-epoch 200",
)
@option(
    "--batch-size",
    type=click.IntRange(min=1),
    help="Images of each kind (unlabelled, reference) per step, split across replicas [default: the budget's].",
    example="--batch-size 64",
)
@option(
    "--image-size",
    type=int,
    help="Image side in pixels, a positive multiple of 16 [default: the budget's].",
    example="--image-size 64",
)
@option(
    "--width",
    type=click.FloatRange(min=0, min_open=True),
    help="Channel multiplier of every network: channels = width x (32, 64, 128, 256) [default: the budget's].",
    example="--width 1",
)
@option(
    "--target-dim",
    type=click.IntRange(min=1),
    help="De, latents of the target factors [default: the budget's].",
    example="--target-dim 16",
)
@option(
    "--common-dim",
    type=click.IntRange(min=1),
    help="Dz, latents of the common factors [default: the budget's].",
    example="--common-dim 16",
)
@option(
    "--lr",
    "learning_rate",
    type=click.FloatRange(min=0, min_open=True),
    help="Learning rate of Adam (both players, unless --discriminator-lr) [default: the budget's: cpu 3e-4, "
    "tiny and paper 1e-4 (the paper's)].",
    example="--lr 2e-4",
)
@option(
    "--discriminator-lr",
    "discriminator_learning_rate",
    type=click.FloatRange(min=0, min_open=True),
    help="Learning rate of the discriminators' Adam (sVAE, sRb-VAE) [default: --lr].",
    example="--discriminator-lr 3e-5",
)
@option(
    "--lr-schedule",
    type=click.Choice(LR_SCHEDULE_NAMES),
    default="constant",
    show_default=True,
    help="constant (the paper), or cosine: every learning rate decays to 0 over the run's epochs x steps.",
    example="--lr-schedule cosine",
)
@option(
    "--seed",
    type=int,
    default=0,
    show_default=True,
    help="Seed of the weights, the sampling noise and the data order.",
    example="--seed 1",
)
@option(
    "--jit/--no-jit", default=None, help="Compile the train step with XLA [default: the budget's].", example="--no-jit"
)
@option(
    "--mixed-precision",
    type=click.Choice(["bf16"]),
    help="Train in bfloat16 mixed precision, weights and losses fp32: opt-in, CPUs with AVX512_BF16 or AMX "
    "(docs/performance.md) [default: fp32].",
    example="--mixed-precision bf16",
)
@option(
    "--replicas",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="MirroredStrategy over N GPUs, or N logical CPU devices.",
    example="--replicas 2",
)
@option(
    "--workers",
    help="host:port of every worker, comma-separated: MultiWorkerMirroredStrategy "
    "[default: TF_CONFIG if set, else one process].",
    example="--workers h1:2222,h2:2222",
)
@option(
    "--worker-index",
    type=int,
    help="This worker's place in --workers; 0 is the chief, which writes --out-dir.",
    example="--worker-index 0",
)
@option(
    "--backup-every",
    type=click.IntRange(min=1),
    help="Back up every N steps, so a crash resumes mid-epoch [default: at each epoch end].",
    example="--backup-every 100",
)
@option(
    "--model-arg", multiple=True, help="Extra model argument KEY=VALUE (repeatable).", example="--model-arg beta_kl=8"
)
@data_option()
@mnist_option()
@option(
    "--data-seed", type=int, default=0, show_default=True, help="Seed of the MNIST-style data.", example="--data-seed 1"
)
@option(
    "--limit",
    type=int,
    help="Cap every split of the MNIST-style data at N images (quick runs).",
    example="--limit 2000",
)
@option(
    "--reference-width",
    type=click.IntRange(1, 10),
    help="Outline width of the MNIST-style reference images at 64 px [default: the budget's].",
    example="--reference-width 1",
)
@padding_option()
@option(
    "--reference",
    type=click.Path(),
    help="Folder of reference images (instead of MNIST-style).",
    example="--reference faces/neutral",
)
@option(
    "--unlabelled",
    type=click.Path(),
    help="Folder of unlabelled images (with --reference).",
    example="--unlabelled faces/all",
)
@option(
    "--progress",
    type=click.Choice(PROGRESS_MODES),
    default="compact",
    show_default=True,
    help="Training display: compact (one short line per step, one per epoch), full (Keras' line of every "
    "value), epoch (the epoch lines) or none. history.csv and TensorBoard get every value.",
    example="--progress epoch",
)
@user_errors
def fit(model, budget, out_dir, replicas, jit, model_arg, workers, worker_index, backup_every, progress, **options):
    """Train a model into a run directory (default: sRb-VAE, cpu budget, bundled MNIST-style data).

    The run directory holds config.json, model.keras, history.csv (every logged value of each epoch),
    TensorBoard logs and sample grids; the same command resumes an unfinished run. On several hosts,
    run the same command on each with --workers (or a TF_CONFIG set by the cluster manager) and its
    own --worker-index; worker 0 writes the run directory.

    \b
    Example:
      python cli.py fit --budget tiny --out-dir runs/smoke
      python cli.py fit --model rbvae --epochs 10 --progress epoch
    """
    from rbvae_tf.config import FitConfig
    from rbvae_tf.distribute import parse_workers
    from rbvae_tf.training import fit as run_fit

    if options["data"] is not None:  # options typed for building data that --data does not build: say so
        typed = [f"--{name.replace('_', '-')}" for name in BUILD_OPTIONS if given(name)]
        if typed:
            fail(
                f"{', '.join(typed)} describe{'s' if len(typed) == 1 else ''} how to build MNIST-style data, "
                f"but --data {options['data']} is built: its meta.json gives them"
            )
        options["mnist"] = None  # RBVAE_MNIST does not apply either
    cluster = parse_workers(workers, worker_index)
    config = FitConfig(
        model=model, preset=budget, replicas=replicas, jit=jit, model_args=parse_model_args(model_arg), **options
    )  # checks the configuration (UserError)
    former = os.environ.get("TF_CONFIG")
    if cluster is not None:
        os.environ["TF_CONFIG"] = json.dumps(cluster)  # read by TensorFlow's MultiWorkerMirroredStrategy
    try:
        run_dir = run_fit(config, out=out_dir, backup_every=backup_every, progress=progress)
    except KeyboardInterrupt:
        click.echo("error: interrupted; the last backup is kept: run the same command to resume", err=True)
        sys.exit(130)
    finally:  # the process's environment as it was (several `fit` calls in one process, as in the tests)
        if cluster is not None and former is None:
            del os.environ["TF_CONFIG"]
        elif cluster is not None:
            os.environ["TF_CONFIG"] = former
    if not run_dir.exists():  # a non-chief worker, whose temporary folder is removed once the run has finished
        click.echo("finished: this worker is done; the chief wrote the run directory")
        return
    status = json.loads((run_dir / "status.json").read_text())
    if not status["finished"]:  # Ctrl-C: stopped after saving an epoch
        click.echo(
            f"stopped after epoch {status['epochs_completed']} of {config.epochs}: {run_dir} is saved; "
            "run the same command to resume",
            err=True,
        )
        sys.exit(130)
    click.echo(f"finished: {run_dir}")


# --- evaluate / generate / transfer -------------------------------------------------------------


def load_model(model):
    """load_trained(MODEL), or the most recently finished run when MODEL is omitted."""
    from rbvae_tf.loading import latest_finished_run, load_trained

    if model is None:
        model = str(latest_finished_run())
        click.echo(f"model: {model} (most recently finished run)")
    return load_trained(model)


@cli.command(short_help="Probes, disentanglement and transfer scores of a model.")
@click.argument("model", required=False)
@option(
    "--out-dir",
    type=click.Path(file_okay=False),
    required=True,
    help="Folder to write metrics.json and metrics.md into.",
    example="--out-dir eval/mine",
)
@option(
    "--probe",
    "probe_dir",
    type=click.Path(),
    help="Labelled folder (one sub-folder per class) instead of the MNIST-style probe splits.",
    example="--probe faces/by-person",
)
@probe_data_options
@option(
    "--batch-size",
    type=click.IntRange(min=1),
    default=500,
    show_default=True,
    help="Images per encoder call.",
    example="--batch-size 100",
)
@option(
    "--seed",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="Seed of the untrained floor, DCI and the folder split.",
    example="--seed 1",
)
@user_errors
def evaluate(model, out_dir, probe_dir, data, mnist, data_seed, limit, batch_size, seed):
    """Table-1 probes, disentanglement metrics and transfer/generation scores of a trained model.

    MODEL is a run directory, a .keras file or a zoo preset (`python cli.py zoo`) [default: the
    most recently finished run under runs/]. Writes OUT_DIR/metrics.json and OUT_DIR/metrics.md
    (a Table-1-style report with the paper's numbers next to the model's).

    \b
    Example:
      python cli.py evaluate runs/srbvae-cpu --out-dir eval/srbvae-cpu
      python cli.py evaluate srbvae-mnist-cpu --out-dir eval/zoo --limit 500
    """
    from rbvae_tf.evaluation import evaluate as run_evaluate
    from rbvae_tf.evaluation import summary_lines

    if probe_dir is not None and data is not None:
        fail("use either --probe (a labelled folder) or --data (an MNIST-style folder), not both")
    net, info = load_model(model)
    mnist = mnist if given("mnist") else None  # RBVAE_MNIST: the library's lookup, after the run's own data
    results = run_evaluate(net, out_dir, info, probe_dir, mnist, data_seed, limit, batch_size, seed, data=data)
    click.echo("\n".join(summary_lines(results)))
    click.echo(f"wrote {os.path.join(out_dir, 'metrics.json')} and metrics.md in {results['seconds']} s")


@cli.command(short_help="Conditional generation grid (paper Fig. 3).")
@click.argument("model", required=False)
@option("--out", required=True, type=click.Path(dir_okay=False), help="PNG file to write.", example="--out grid.png")
@option(
    "--rows", type=click.IntRange(min=1), default=6, show_default=True, help="Probe images (rows).", example="--rows 4"
)
@option(
    "--cols",
    type=click.IntRange(min=1),
    default=8,
    show_default=True,
    help="Sampled target vectors e (columns after the input and its reference version).",
    example="--cols 10",
)
@option(
    "--seed",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="Seed of e and the rows.",
    example="--seed 3",
)
@option(
    "--images",
    multiple=True,
    type=click.Path(),
    help="Image file or folder for the rows instead of probe images (repeatable).",
    example="--images me.png",
)
@probe_data_options
@user_errors
def generate(model, out, rows, cols, seed, images, data, mnist, data_seed, limit):
    """Conditional generation grid (paper Fig. 3).

    Each row: a real image, its reference version G(z, e_r), then G(z, e_j) for COLS target
    vectors e_j ~ N(0, I), the same e_j down each column; z is the image's posterior mean.
    Tiles smaller than 64 px are enlarged (nearest neighbour). Needs rbvae or srbvae.
    MODEL as for `evaluate`.

    \b
    Example:
      python cli.py generate srbvae-mnist-cpu --out generate.png --rows 4 --cols 10
    """
    from rbvae_tf.applications import write_conditional_grid

    net, info = load_model(model)
    mnist = mnist if given("mnist") else None  # RBVAE_MNIST: the library's lookup, after the run's own data
    path, what = write_conditional_grid(net, out, images, rows, cols, seed, info, mnist, data_seed, limit, data)
    click.echo(f"wrote {path} ({what})")


@cli.command(short_help="Attribute transfer: content z, style e (paper Fig. 4).")
@click.argument("model", required=False)
@option(
    "--content",
    multiple=True,
    type=click.Path(),
    help="Image(s) giving z, e.g. the digit (repeatable).",
    example="--content digit.png",
)
@option(
    "--style",
    multiple=True,
    type=click.Path(),
    help="Image(s) giving e, e.g. colour/scale (repeatable).",
    example="--style red.png",
)
@option(
    "--grid",
    type=click.IntRange(min=1),
    is_flag=False,
    flag_value=6,
    default=None,
    help="An N x N grid of probe images instead [N default: 6].",
    example="--grid 4",
)
@option(
    "--out", required=True, type=click.Path(dir_okay=False), help="PNG file to write.", example="--out transfer.png"
)
@option(
    "--seed",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="Seed of the --grid images.",
    example="--seed 2",
)
@probe_data_options
@user_errors
def transfer(model, content, style, grid, out, seed, data, mnist, data_seed, limit):
    """Attribute transfer: z from content, e from style (paper Fig. 4).

    One --content and one --style: OUT is the transferred image at the model's size. Several:
    a grid with the content images down the side and the style images across the top (tiles
    enlarged to >= 64 px); --grid N does the same with N + N probe images. Images of any size,
    grey or colour, are centre-cropped and resized. Needs rbvae or srbvae. MODEL as for `evaluate`.

    \b
    Example:
      python cli.py transfer srbvae-mnist-cpu --content a.png --style b.png --out ab.png
      python cli.py transfer srbvae-mnist-cpu --grid 6 --out grid.png
    """
    from rbvae_tf.applications import write_transfer

    net, info = load_model(model)
    mnist = mnist if given("mnist") else None  # RBVAE_MNIST: the library's lookup, after the run's own data
    path, what = write_transfer(net, out, content, style, grid, seed, info, mnist, data_seed, limit, data)
    click.echo(f"wrote {path} ({what})")


# --- export / zoo / bench -----------------------------------------------------------------------


@cli.command(short_help="Export SavedModel, ONNX and a web page for serving.")
@click.argument("model", required=False)
@option(
    "--out-dir",
    type=click.Path(file_okay=False),
    help="Export folder [default: exports/<run name>].",
    example="--out-dir exports/mine",
)
@option(
    "--onnx", "with_onnx", is_flag=True, help="Also write ONNX graphs (tf2onnx) to OUT_DIR/onnx/.", example="--onnx"
)
@option("--opset", default=17, show_default=True, type=int, help="ONNX opset, 13 to 18.", example="--opset 13")
@option(
    "--web",
    "web_dir",
    type=click.Path(file_okay=False),
    help="Also write a static attribute-transfer page (ONNX Runtime Web) to this folder; implies --onnx.",
    example="--web site",
)
@option(
    "--samples",
    type=click.IntRange(min=2),
    default=6,
    show_default=True,
    help="Probe images offered as samples by the --web page.",
    example="--samples 8",
)
@user_errors
def export(model, out_dir, with_onnx, opset, web_dir, samples):
    """Export SavedModel (and ONNX) artifacts of MODEL for serving.

    MODEL as for `evaluate`. Writes OUT_DIR/saved_model, OUT_DIR/onnx/*.onnx and
    OUT_DIR/metadata.json; with --web also a page folder (open it with `python -m http.server -d
    FOLDER`).

    \b
    Example:
      python cli.py export srbvae-mnist-cpu --onnx --out-dir exports/srbvae
      python cli.py export srbvae-mnist-cpu --web site && python -m http.server -d site
    """
    from export import export_model

    if web_dir:
        from export.web import check_before_export

        check_before_export(web_dir)  # the page needs `npm ci --prefix export/web`
    net, info = load_model(model)
    out_dir = out_dir or os.path.join("exports", info["name"])
    metadata = export_model(net, info, out_dir, onnx=with_onnx or bool(web_dir), opset=opset)
    click.echo(
        f"wrote {out_dir}: saved_model ({', '.join(metadata['signatures'])})"
        + "".join(f", {file}" for file in metadata["files"]["onnx"])
        + ", metadata.json"
    )
    click.echo(f"max abs difference to the Keras model: {max(metadata['parity'].values()):.1e}")
    if web_dir:
        from export.web import write_web_from_model

        click.echo(
            f"wrote {write_web_from_model(net, info, out_dir, web_dir, samples)}: "
            f"open it with `python -m http.server -d {web_dir}`"
        )


@cli.command(short_help="List the trained presets of zoo/ and their probe numbers.")
@user_errors
def zoo():
    """List the trained presets (model, data, budget, headline probe numbers).

    Every command that takes MODEL accepts a preset name; the folder is $RBVAE_ZOO, else zoo/.

    \b
    Example:
      python cli.py zoo
    """
    from rbvae_tf.presets import preset_table

    click.echo(preset_table())


@cli.group(short_help="Benchmarks: training-step time, transfer latency.")
def bench():
    """Benchmarks."""


@bench.command("train", short_help="Median training-step time per image size, width, XLA.")
@option(
    "--model",
    default="srbvae",
    show_default=True,
    type=click.Choice(MODEL_NAMES),
    help="Model to time.",
    example="--model vae",
)
@option(
    "--budget",
    default="cpu",
    show_default=True,
    type=click.Choice(BUDGETS),
    help="Training budget giving the batch size and latents (as for fit).",
    example="--budget paper",
)
@option(
    "--image-size",
    "sizes",
    default="32",
    show_default=True,
    help="Image sides, comma-separated.",
    example="--image-size 32,64",
)
@option(
    "--width",
    "widths",
    default="0.25,0.5",
    show_default=True,
    help="Channel multipliers, comma-separated.",
    example="--width 0.5,1",
)
@option(
    "--repeats",
    type=click.IntRange(min=1),
    default=50,
    show_default=True,
    help="Timed steps each.",
    example="--repeats 20",
)
@option(
    "--warmup",
    type=click.IntRange(min=1),
    default=5,
    show_default=True,
    help="Untimed steps first.",
    example="--warmup 3",
)
@option(
    "--jit",
    "jits",
    type=click.Choice(["off", "on", "both"]),
    default="both",
    show_default=True,
    help="XLA settings to measure.",
    example="--jit off",
)
@option(
    "--mixed-precision",
    type=click.Choice(["bf16"]),
    help="Time the step in bfloat16 mixed precision (CPUs with AVX512_BF16 or AMX) [default: fp32].",
    example="--mixed-precision bf16",
)
@user_errors
def train_speed(model, budget, sizes, widths, repeats, warmup, jits, mixed_precision):
    """Median training-step time per (size, width, XLA), measured in one run.

    Prints a Markdown table, then as the last line one JSON list with an object per configuration
    (model, image_size, width, batch_size, jit, precision, median_step_s, img_per_s: unlabelled images/s).

    \b
    Example:
      python cli.py bench train --image-size 32 --width 0.5 --jit off --repeats 20
    """
    from rbvae_tf import benchmarks

    rows = benchmarks.train_speed(
        model,
        budget,
        benchmarks.parse_list(sizes, int, "--image-size"),
        benchmarks.parse_list(widths, float, "--width"),
        repeats,
        jits={"off": [False], "on": [True], "both": [False, True]}[jits],
        warmup=warmup,
        log=click.echo,
        mixed_precision=mixed_precision,
    )
    click.echo(benchmarks.json_line(rows))


@bench.command("infer", short_help="Attribute-transfer latency of Keras, SavedModel, ONNX.")
@click.argument("model", required=False)
@option(
    "--untrained",
    metavar="NAME",
    help="Time a new untrained model NAME instead of MODEL.",
    example="--untrained srbvae",
)
@option(
    "--image-size",
    default=64,
    show_default=True,
    type=int,
    help="Image side of --untrained.",
    example="--image-size 32",
)
@option(
    "--width",
    default=1.0,
    show_default=True,
    type=float,
    help="Channel multiplier of --untrained.",
    example="--width 0.5",
)
@option(
    "--batch-size",
    "batches",
    default="1,64",
    show_default=True,
    help="Batch sizes, comma-separated.",
    example="--batch-size 1,8,64",
)
@option(
    "--repeats",
    type=click.IntRange(min=1),
    default=20,
    show_default=True,
    help="Timed calls each.",
    example="--repeats 50",
)
@option(
    "--warmup",
    type=click.IntRange(min=1),
    default=3,
    show_default=True,
    help="Untimed calls first.",
    example="--warmup 5",
)
@option(
    "--out",
    "out_file",
    type=click.Path(dir_okay=False),
    help="Also write the Markdown report to this file.",
    example="--out latency.md",
)
@option(
    "--threads-only",
    is_flag=True,
    help="Time only ONNX Runtime's thread settings (ORT default, shipped, 1, 2, 2 without spin-wait).",
    example="--threads-only",
)
@user_errors
def infer(model, untrained, image_size, width, batches, repeats, warmup, out_file, threads_only):
    """Attribute-transfer latency: Keras, tf.function (+XLA), SavedModel, ONNX Runtime.

    MODEL as for `evaluate`.

    \b
    Example:
      python cli.py bench infer srbvae-mnist-cpu --batch-size 1,64 --out latency.md
      python cli.py bench infer --untrained srbvae --image-size 64
    """
    from export import run_infer_bench
    from rbvae_tf.applications import require_split
    from rbvae_tf.models import build_model

    try:
        sizes = [int(b) for b in batches.split(",")]
    except ValueError:
        fail(f"--batch-size must be comma-separated integers, got {batches!r}")
    if not sizes or min(sizes) < 1:
        fail(f"--batch-size values must be positive, got {batches!r}")
    if untrained:
        net = build_model(untrained, image_size=image_size, width=width)  # UserError if unknown
        info = {"name": untrained, "path": None, "fit": {"model": untrained}}
    else:
        net, info = load_model(model)
    require_split(net, "bench infer (it times attribute transfer)")
    report = run_infer_bench(
        net,
        info,
        sizes,
        repeats,
        warmup,
        untrained=bool(untrained),
        command="python cli.py " + " ".join(sys.argv[1:]),
        log=click.echo,
        threads_only=threads_only,
    )
    click.echo(report)
    if out_file:
        with open(out_file, "w") as f:
            f.write(report)


if __name__ == "__main__":
    cli()

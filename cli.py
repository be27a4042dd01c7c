"""rbvae_tf command line: a thin click front over the library.

Every command parses options and calls one library function. Bad input raises
`rbvae_tf.UserError`, printed here as one line on stderr with exit status 2.
"""

import functools
import json
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import click


def _import_tensorflow_quietly():
    """TensorFlow's C++ start-up lines (CUDA probing, absl) go straight to fd 2, whatever the log
    level: silence them while the package loads, so that errors stay one line."""
    saved = os.dup(2)
    with open(os.devnull, "w") as devnull:
        os.dup2(devnull.fileno(), 2)
        try:
            import rbvae_tf.runtime  # noqa: F401  (before TensorFlow: it picks the CPU kernels)
            import tensorflow as tf

            tf.config.list_physical_devices()
        finally:
            os.dup2(saved, 2)
            os.close(saved)


_import_tensorflow_quietly()

from rbvae_tf.errors import TrainingDiverged, UserError  # noqa: E402
from rbvae_tf.models import MODELS  # noqa: E402  (the one registry of model names)


def user_errors(command):
    """Turns UserError (and click's own bad-parameter errors) into `error: ...` and exit 2."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except UserError as error:
            click.echo(f"error: {error}", err=True)
            sys.exit(2)
        except TrainingDiverged as error:
            click.echo(f"error: {error}", err=True)
            sys.exit(1)

    return wrapper


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


@click.group(cls=OneLineErrors, context_settings={"help_option_names": ["-h", "--help"]})
def cli():
    """Reference-based disentangling (Rb-VAE, sRb-VAE and baselines) with Keras 3."""


# --- data -------------------------------------------------------------------------------------


@cli.group()
def data():
    """Build data sets."""


@data.command("mnist-style")
@click.option("--out", "out_dir", required=True, type=click.Path(), help="Output folder.")
@click.option("--size", default=64, show_default=True, help="Image side, a multiple of 16.")
@click.option("--seed", default=0, show_default=True, help="Seed of the factors and splits.")
@click.option("--limit", type=int, default=None, help="Cap on the images of each split.")
@click.option("--mnist", "mnist_path", type=click.Path(), default=None, help="mnist.npz or IDX folder.")
@click.option("--preview", is_flag=True, help="Also write preview.png (paper Fig. 5).")
@click.option("--reference-width", type=click.IntRange(1, 10), default=1, show_default=True,
              help="Outline width of the reference images at 64 px (1: the paper).")
@user_errors
def mnist_style(out_dir, size, seed, limit, mnist_path, preview, reference_width):
    """The MNIST-style data set (paper Sec. 5.1): one .npz per split in --out."""
    import time

    from rbvae_tf.data import make_mnist_style

    started = time.perf_counter()
    written = make_mnist_style(out_dir, size, seed, limit, mnist_path, preview, reference_width)
    click.echo(f"built in {time.perf_counter() - started:.1f} s, wrote:")
    for path in written:
        click.echo(f"  {path} ({path.stat().st_size / 1e6:.1f} MB)")


# --- fit --------------------------------------------------------------------------------------


def parse_model_args(pairs):
    """`KEY=VALUE` pairs -> dict, values parsed as JSON when they can be (numbers, booleans)."""
    parsed = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise UserError(f"--model-arg takes KEY=VALUE, got {pair!r}")
        try:
            parsed[key] = json.loads(value)
        except ValueError:
            parsed[key] = value
    return parsed


@cli.command()
@click.option("--model", default="srbvae", show_default=True,
              type=click.Choice(list(MODELS)))
@click.option("--preset", default="cpu", show_default=True, type=click.Choice(["tiny", "cpu", "paper"]))
@click.option("--out", type=click.Path(file_okay=False), help="Run directory [default: runs/<model>-<preset>].")
@click.option("--epochs", type=click.IntRange(min=1))
@click.option("--steps-per-epoch", type=click.IntRange(min=1))
@click.option("--batch-size", type=click.IntRange(min=1))
@click.option("--image-size", type=int, help="A positive multiple of 16.")
@click.option("--width", type=click.FloatRange(min=0, min_open=True), help="Channel multiplier.")
@click.option("--target-dim", type=click.IntRange(min=1))
@click.option("--common-dim", type=click.IntRange(min=1))
@click.option("--lr", "learning_rate", type=click.FloatRange(min=0, min_open=True), default=1e-4, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--jit/--no-jit", default=None, help="XLA [default: the preset's, measured faster].")
@click.option("--replicas", type=click.IntRange(min=1), default=1, show_default=True,
              help="MirroredStrategy over N GPUs, or N logical CPU devices.")
@click.option("--workers", help="host:port of every worker, comma-separated: MultiWorkerMirroredStrategy "
              "(default: TF_CONFIG if set, else one process).")
@click.option("--worker-index", type=int, help="This worker's place in --workers; 0 is the chief, which writes --out.")
@click.option("--backup-every", type=click.IntRange(min=1),
              help="Back up every N steps, so a crash resumes mid-epoch [default: at each epoch end].")
@click.option("--model-arg", multiple=True, help="Extra model argument KEY=VALUE, e.g. beta_kl=8.")
@click.option("--mnist", type=click.Path(), envvar="RBVAE_MNIST", help="mnist.npz or a folder of IDX files.")
@click.option("--data-seed", type=int, default=0, show_default=True)
@click.option("--limit", type=int, help="Cap every split at N images (quick runs).")
@click.option("--reference-width", type=click.IntRange(1, 10),
              help="Outline width of the MNIST-style reference images at 64 px [default: the preset's].")
@click.option("--reference", type=click.Path(), help="Folder of reference images (instead of MNIST-style).")
@click.option("--unlabelled", type=click.Path(), help="Folder of unlabelled images.")
@user_errors
def fit(model, preset, out, replicas, jit, model_arg, workers, worker_index, backup_every, **options):
    """Train a model (default: sRb-VAE, cpu preset, bundled MNIST-style data).

    On several hosts, run the same command on each with `--workers` (or a TF_CONFIG set by the
    cluster manager) and its own `--worker-index`; worker 0 writes the run directory.
    """
    from rbvae_tf.config import FitConfig
    from rbvae_tf.data.checks import check_size
    from rbvae_tf.distribute import parse_workers
    from rbvae_tf.training import fit as run_fit

    if options["limit"] is not None and options["limit"] < 0:
        raise UserError(f"--limit must be >= 0, got {options['limit']}")
    if options["image_size"] is not None:
        check_size(options["image_size"], "--image-size")
    if replicas > 1 and jit:
        raise UserError("--jit does not work with --replicas > 1 (XLA fails under MirroredStrategy on CPU)")
    cluster = parse_workers(workers, worker_index)
    if cluster is not None and replicas > 1:
        raise UserError("--replicas does not combine with --workers: each worker uses all its GPUs (or its CPU)")
    config = FitConfig(model=model, preset=preset, replicas=replicas, jit=False if replicas > 1 else jit,
                       model_args=parse_model_args(model_arg), **options)
    if cluster is not None:
        os.environ["TF_CONFIG"] = json.dumps(cluster)  # read by TensorFlow's MultiWorkerMirroredStrategy
    try:
        run_dir = run_fit(config, out=out, backup_every=backup_every)
    except KeyboardInterrupt:
        click.echo("error: interrupted; the last backup is kept: run the same command to resume", err=True)
        sys.exit(130)
    if not run_dir.exists():  # a non-chief worker, whose temporary folder is removed once the run has finished
        click.echo("finished: this worker is done; the chief wrote the run directory")
        return
    status = json.loads((run_dir / "status.json").read_text())
    if not status["finished"]:  # Ctrl-C: stopped after saving an epoch
        click.echo(f"stopped after epoch {status['epochs_completed']} of {config.epochs}: {run_dir} is saved; "
                   "run the same command to resume", err=True)
        sys.exit(130)
    click.echo(f"finished: {run_dir}")


# --- evaluate / generate / transfer -----------------------------------------------------------


def _load_model(model):
    """load_trained(MODEL), or the most recently finished run when MODEL is omitted."""
    from rbvae_tf.loading import latest_finished_run, load_trained

    if model is None:
        model = str(latest_finished_run())
        click.echo(f"model: {model} (most recently finished run)")
    return load_trained(model)


def _probe_data_options(command):
    """--mnist, --data-seed and --limit of the commands that read the MNIST-style probe splits."""
    command = click.option("--limit", type=click.IntRange(min=0), help="Cap on each split (quick runs).")(command)
    command = click.option("--data-seed", type=click.IntRange(min=0),
                           help="Seed of the MNIST-style data [default: the run's, else 0].")(command)
    return click.option("--mnist", type=click.Path(),
                        help="mnist.npz or IDX folder [default: the run's, else the usual lookup].")(command)


@cli.command()
@click.argument("model", required=False)
@click.option("--out", "out_dir", required=True, type=click.Path(), help="Folder for metrics.json and metrics.md.")
@click.option("--probe", "probe_dir", type=click.Path(),
              help="Labelled folder (one sub-folder per class) instead of the MNIST-style probe splits.")
@_probe_data_options
@click.option("--batch-size", type=click.IntRange(min=1), default=500, show_default=True,
              help="Images per encoder call.")
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True,
              help="Seed of the untrained floor, DCI and the folder split.")
@user_errors
def evaluate(model, out_dir, probe_dir, mnist, data_seed, limit, batch_size, seed):
    """Table-1 probes and disentanglement metrics of a trained model.

    MODEL is a run directory, a .keras file or a zoo preset [default: the most recently finished
    run under runs/]. Writes OUT/metrics.json and OUT/metrics.md (a Table-1-style report with the
    paper's numbers next to the model's).
    """
    from rbvae_tf.evaluation import evaluate as run_evaluate, summary_lines

    net, info = _load_model(model)
    results = run_evaluate(net, out_dir, info, probe_dir, mnist, data_seed, limit, batch_size, seed)
    click.echo("\n".join(summary_lines(results)))
    click.echo(f"wrote {os.path.join(out_dir, 'metrics.json')} and metrics.md in {results['seconds']} s")


@cli.command()
@click.argument("model", required=False)
@click.option("--out", required=True, type=click.Path(dir_okay=False), help="PNG file to write.")
@click.option("--rows", type=click.IntRange(min=1), default=6, show_default=True, help="Probe images (rows).")
@click.option("--cols", type=click.IntRange(min=1), default=8, show_default=True,
              help="Sampled target vectors e (columns after the input and its reference version).")
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True, help="Seed of e and the rows.")
@click.option("--images", multiple=True, type=click.Path(),
              help="Image file or folder for the rows instead of probe images (repeatable).")
@_probe_data_options
@user_errors
def generate(model, out, rows, cols, seed, images, mnist, data_seed, limit):
    """Conditional generation grid (paper Fig. 3).

    Each row: a real image, its reference version G(z, e_r), then G(z, e_j) for COLS target
    vectors e_j ~ N(0, I), the same e_j down each column; z is the image's posterior mean.
    Tiles smaller than 64 px are enlarged (nearest neighbour). Needs rbvae or srbvae.
    """
    from rbvae_tf.applications import write_conditional_grid

    net, info = _load_model(model)
    path, what = write_conditional_grid(net, out, images, rows, cols, seed, info, mnist, data_seed, limit)
    click.echo(f"wrote {path} ({what})")


@cli.command()
@click.argument("model", required=False)
@click.option("--content", multiple=True, type=click.Path(), help="Image(s) giving z, e.g. the digit (repeatable).")
@click.option("--style", multiple=True, type=click.Path(), help="Image(s) giving e, e.g. colour/scale (repeatable).")
@click.option("--grid", type=click.IntRange(min=1), is_flag=False, flag_value=6, default=None,
              help="An N x N grid of probe images instead [N default: 6].")
@click.option("--out", required=True, type=click.Path(dir_okay=False), help="PNG file to write.")
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True, help="Seed of the --grid images.")
@_probe_data_options
@user_errors
def transfer(model, content, style, grid, out, seed, mnist, data_seed, limit):
    """Attribute transfer: z from content, e from style (paper Fig. 4).

    One --content and one --style: OUT is the transferred image at the model's size. Several:
    a grid with the content images down the side and the style images across the top (tiles
    enlarged to >= 64 px); --grid N does the same with N + N probe images. Images of any size,
    grey or colour, are centre-cropped and resized. Needs rbvae or srbvae.
    """
    from rbvae_tf.applications import write_transfer

    net, info = _load_model(model)
    path, what = write_transfer(net, out, content, style, grid, seed, info, mnist, data_seed, limit)
    click.echo(f"wrote {path} ({what})")


# --- export / bench ---------------------------------------------------------------------------


@cli.command()
@click.argument("model", required=False)
@click.option("--out", "out_dir", type=click.Path(file_okay=False), help="Export folder [default: exports/<run name>].")
@click.option("--onnx", "with_onnx", is_flag=True, help="Also write ONNX graphs (tf2onnx) to DIR/onnx/.")
@click.option("--opset", default=17, show_default=True, help="ONNX opset, 13 to 18.")
@click.option("--web", "web_dir", type=click.Path(file_okay=False),
              help="Also write a static attribute-transfer page (ONNX Runtime Web) to this folder; implies --onnx.")
@click.option("--samples", type=click.IntRange(min=2), default=6, show_default=True,
              help="Probe images offered as samples by the --web page.")
@user_errors
def export(model, out_dir, with_onnx, opset, web_dir, samples):
    """Export SavedModel (and ONNX) artifacts of MODEL for serving.

    MODEL is a run directory, a .keras file or a zoo preset [default: the most recently
    finished run under runs/]. Writes DIR/saved_model, DIR/onnx/*.onnx and DIR/metadata.json;
    with --web also a page folder (open it with `python -m http.server -d FOLDER`).
    """
    from export import export_model

    if web_dir:
        from export.web import check_before_export

        check_before_export(web_dir)  # the page needs `npm ci --prefix export/web`
    net, info = _load_model(model)
    out_dir = out_dir or os.path.join("exports", info["name"])
    metadata = export_model(net, info, out_dir, onnx=with_onnx or bool(web_dir), opset=opset)
    click.echo(f"wrote {out_dir}: saved_model ({', '.join(metadata['signatures'])})"
               + "".join(f", {file}" for file in metadata["files"]["onnx"]) + ", metadata.json")
    click.echo(f"max abs difference to the Keras model: {max(metadata['parity'].values()):.1e}")
    if web_dir:
        from export.web import write_web_from_model

        click.echo(f"wrote {write_web_from_model(net, info, out_dir, web_dir, samples)}: "
                   f"open it with `python -m http.server -d {web_dir}`")


@cli.command()
@user_errors
def zoo():
    """List the trained presets (model, data, budget, headline probe numbers).

    Every command that takes MODEL accepts a preset name; the folder is $RBVAE_ZOO, else zoo/.
    """
    from rbvae_tf.presets import preset_table

    click.echo(preset_table())


@cli.group()
def bench():
    """Benchmarks."""


@bench.command("train")
@click.option("--model", default="srbvae", show_default=True, type=click.Choice(list(MODELS)))
@click.option("--preset", default="cpu", show_default=True, type=click.Choice(["tiny", "cpu", "paper"]))
@click.option("--image-size", "sizes", default="32", show_default=True, help="Comma-separated.")
@click.option("--width", "widths", default="0.25,0.5", show_default=True, help="Comma-separated.")
@click.option("--steps", type=click.IntRange(min=1), default=50, show_default=True, help="Timed steps each.")
@click.option("--warmup", type=click.IntRange(min=1), default=5, show_default=True, help="Untimed steps first.")
@click.option("--jit", "jits", type=click.Choice(["off", "on", "both"]), default="both", show_default=True,
              help="XLA settings to measure.")
@user_errors
def train_speed(model, preset, sizes, widths, steps, warmup, jits):
    """Median training-step time per (size, width, XLA), measured in one run.

    Prints a Markdown table, then as the last line one JSON list with an object per configuration
    (model, image_size, width, batch_size, jit, median_step_s, img_per_s: unlabelled images/s).
    """
    from rbvae_tf import benchmarks

    rows = benchmarks.train_speed(
        model, preset, benchmarks.parse_list(sizes, int, "--image-size"), benchmarks.parse_list(widths, float, "--width"),
        steps, jits={"off": [False], "on": [True], "both": [False, True]}[jits], warmup=warmup, log=click.echo)
    click.echo(benchmarks.json_line(rows))


@bench.command("infer")
@click.argument("model", required=False)
@click.option("--untrained", metavar="NAME", help="Time a new untrained model NAME (e.g. srbvae) instead of MODEL.")
@click.option("--size", "image_size", default=64, show_default=True, help="Image side of --untrained.")
@click.option("--width", default=1.0, show_default=True, help="Channel multiplier of --untrained.")
@click.option("--batch", "batches", default="1,64", show_default=True, help="Batch sizes, comma-separated.")
@click.option("--repeats", type=click.IntRange(min=1), default=20, show_default=True, help="Timed calls each.")
@click.option("--warmup", type=click.IntRange(min=1), default=3, show_default=True, help="Untimed calls first.")
@click.option("--out", "out_file", type=click.Path(dir_okay=False), help="Also write the Markdown report here.")
@click.option("--threads-only", is_flag=True,
              help="Time only ONNX Runtime's thread settings (ORT default, shipped, 1, 2, 2 without spin-wait).")
@user_errors
def infer(model, untrained, image_size, width, batches, repeats, warmup, out_file, threads_only):
    """Attribute-transfer latency: Keras, tf.function (+XLA), SavedModel, ONNX Runtime.

    MODEL as for `export` [default: the most recently finished run under runs/].
    """
    from export import run_infer_bench
    from rbvae_tf.applications import require_split
    from rbvae_tf.models import build_model

    try:
        sizes = [int(b) for b in batches.split(",")]
    except ValueError:
        raise UserError(f"--batch must be comma-separated integers, got {batches!r}") from None
    if not sizes or min(sizes) < 1:
        raise UserError(f"--batch sizes must be positive, got {batches!r}")
    if untrained:
        net = build_model(untrained, image_size=image_size, width=width)  # UserError if unknown
        info = {"name": untrained, "path": None, "fit": {"model": untrained}}
    else:
        net, info = _load_model(model)
    require_split(net, "bench infer (it times attribute transfer)")
    report = run_infer_bench(net, info, sizes, repeats, warmup, untrained=bool(untrained),
                             command="python cli.py " + " ".join(sys.argv[1:]), log=click.echo,
                             threads_only=threads_only)
    click.echo(report)
    if out_file:
        with open(out_file, "w") as f:
            f.write(report)


if __name__ == "__main__":
    cli()

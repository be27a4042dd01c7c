"""rbvae_tf command line: a thin click front over the library.

Every command parses options and calls one library function. Bad input raises
`rbvae_tf.UserError`, printed here as one line on stderr with exit status 2.
"""

import functools
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import click

from rbvae_tf.errors import UserError


def user_errors(command):
    """Turns UserError (and click's own bad-parameter errors) into `error: ...` and exit 2."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except UserError as error:
            click.echo(f"error: {error}", err=True)
            sys.exit(2)

    return wrapper


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
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
@user_errors
def mnist_style(out_dir, size, seed, limit, mnist_path, preview):
    """The MNIST-style data set (paper Sec. 5.1): one .npz per split in --out."""
    import time

    from rbvae_tf.data import make_mnist_style

    started = time.perf_counter()
    written = make_mnist_style(out_dir, size, seed, limit, mnist_path, preview)
    click.echo(f"built in {time.perf_counter() - started:.1f} s, wrote:")
    for path in written:
        click.echo(f"  {path} ({path.stat().st_size / 1e6:.1f} MB)")


# --- fit --------------------------------------------------------------------------------------


@cli.command()
@user_errors
def fit():
    """Train a model (default: sRb-VAE, cpu preset, bundled MNIST-style data)."""
    raise UserError("fit is not yet implemented")


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
@user_errors
def export():
    """Export SavedModel and ONNX artifacts."""
    raise UserError("export is not yet implemented")


@cli.group()
def bench():
    """Benchmarks."""


if __name__ == "__main__":
    cli()

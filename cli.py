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


@cli.command()
@user_errors
def evaluate():
    """Table-1 probes and disentanglement metrics of a trained model."""
    raise UserError("evaluate is not yet implemented")


@cli.command()
@user_errors
def generate():
    """Conditional generation grid (paper Fig. 3)."""
    raise UserError("generate is not yet implemented")


@cli.command()
@user_errors
def transfer():
    """Attribute transfer: z from content, e from style (paper Fig. 4)."""
    raise UserError("transfer is not yet implemented")


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

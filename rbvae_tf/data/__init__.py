"""Data layer: MNIST, the MNIST-style data set of the paper, user image folders, input pipeline.

Example:
>>> from rbvae_tf import data
>>> folder = data.cached_mnist_style(size=32, limit=100)
>>> reference = data.load_split(folder, "reference")
>>> batches = data.train_dataset(data.load_split(folder, "unlabelled")["images"],
...                              reference["images"], batch_size=36)
"""

from rbvae_tf.data.folders import (
    check_images,
    image_folder_dataset,
    list_images,
    load_images,
    load_probe_folder,
)
from rbvae_tf.data.mnist import load_mnist, mnist_source_id
from rbvae_tf.data.mnist_style import FACTOR_NAMES, SPLITS, build_mnist_style
from rbvae_tf.data.pipeline import from_unit_range, to_unit_range, train_dataset
from rbvae_tf.data.store import (
    build_arguments,
    cached_mnist_style,
    load_split,
    make_mnist_style,
    preview_png,
    read_built,
    write_mnist_style,
)

__all__ = [
    "FACTOR_NAMES",
    "SPLITS",
    "build_arguments",
    "build_mnist_style",
    "cached_mnist_style",
    "check_images",
    "from_unit_range",
    "image_folder_dataset",
    "list_images",
    "load_images",
    "load_mnist",
    "load_probe_folder",
    "load_split",
    "make_mnist_style",
    "mnist_source_id",
    "preview_png",
    "read_built",
    "to_unit_range",
    "train_dataset",
    "write_mnist_style",
]

"""The MNIST-style data set of the paper (Sec. 5.1, App. C.1), built with batched numpy.

Digits become coloured outlines of random boundary width, colour and scale. At 64 px each
digit is resized 28 -> 64, its boundary taken with the internal morphological gradient (see
`render.edges`), dilated by a k x k square, shrunk by s about the centre with zero padding
(so the drawn line is about k * s px wide) and multiplied by the colour. Four splits:

- `reference`: first half of MNIST train (30,000), white 1 px outlines, no transformation
  (`reference_width` draws them k x k thicker at 64 px, the same k for every image).
- `unlabelled`: second half of MNIST train, each digit transformed twice (60,000); the two
  versions of digit i are items 2i and 2i+1.
- `probe_train`, `probe_test`: MNIST test split at random into two disjoint halves (5,000
  each), each digit transformed once.

`padding` places each shrunk digit in its zero padding: at the centre (the default) or at the
top-left corner. App. C.1 says only "apply zero-padding to recover the original resolution"; the
corner reading moves the digit's centre with its scale. References are not shrunk, so both
readings draw the same references.

Factors (raw values, float32, in this order): the normalised colour c / |c|_1 with
c ~ U[0,1]^3, the scale s ~ U[0.5, 1] and the boundary width k ~ U{1..10}. Images are the
white outline multiplied by c / |c|_1, as in the paper, so they are rather dark (the channels
sum to 255). Reference images are white, with constant factors (1/3, 1/3, 1/3, 1, 1).

Factors are drawn for the full split from `np.random.default_rng([seed, split])` and then cut
to `limit`, so a limited build is a prefix of the full one. Rendering runs in chunks on a few
threads (numpy releases the GIL); the full 64 px build (100,000 images) takes some 15 s on
2 CPU cores.
"""

import concurrent.futures
import os

import numpy as np

from rbvae_tf.data.checks import check_limit, check_padding, check_reference_width, check_seed, check_size
from rbvae_tf.data.render import render_digits

FACTOR_NAMES = ["R", "G", "B", "scale", "width"]
SPLITS = ("reference", "unlabelled", "probe_train", "probe_test")
REFERENCE_FACTORS = (1 / 3, 1 / 3, 1 / 3, 1.0, 1.0)
MAX_WIDTH = 10
MIN_SCALE = 0.5
CHUNK = 1000


def sample_factors(n, rng):
    """Draws the factors of `n` transformed digits.

    Args:
        n: int. Number of digits.
        rng: np.random.Generator.

    Returns:
        np.ndarray float32 (n, 5): columns R, G, B (c / |c|_1), scale, width.
    """
    colour = rng.random((n, 3))
    colour /= np.maximum(colour.sum(axis=1, keepdims=True), 1e-12)
    scale = rng.uniform(MIN_SCALE, 1.0, n)
    width = rng.integers(1, MAX_WIDTH + 1, n)
    return np.column_stack([colour, scale, width]).astype(np.float32)


def render(digits, factors, size, white=False, padding="centre"):
    """Renders digits with their factors in chunks on a small thread pool.

    Args:
        digits: np.ndarray uint8 (N, 28, 28).
        factors: np.ndarray float32 (N, 5) as from `sample_factors`.
        size: int. Output side.
        white: bool. Draw in white instead of the factor colour (reference split).
        padding: str. "centre" or "corner" (`render.PADDINGS`).

    Returns:
        np.ndarray uint8 (N, size, size, 3).
    """
    out = np.empty((len(digits), size, size, 3), np.uint8)
    colours = np.ones((len(digits), 3), np.float32) if white else factors[:, :3]

    def work(start):
        part = slice(start, start + CHUNK)
        widths = np.rint(factors[part, 4]).astype(int)
        out[part] = render_digits(digits[part], colours[part], factors[part, 3], widths, size, padding)

    workers = min(4, os.cpu_count() or 1)
    with concurrent.futures.ThreadPoolExecutor(workers) as pool:
        list(pool.map(work, range(0, len(digits), CHUNK)))
    return out


def _split(digits, labels, factors, size, white=False, padding="centre"):
    """Assembles one split's dict."""
    return {
        "images": render(digits, factors, size, white, padding),
        "factors": factors,
        "factor_names": list(FACTOR_NAMES),
        "labels": labels.astype(np.int64),
    }


def build_mnist_style(mnist, size=64, seed=0, limit=None, reference_width=1, padding="centre"):
    """Builds the four MNIST-style splits in memory.

    Args:
        mnist: dict. `x_train`, `y_train`, `x_test`, `y_test` as from `load_mnist`.
        size: int. Image side, a positive multiple of 16. Defaults to 64.
        seed: int. Seed of the factors and of the probe split. Defaults to 0.
        limit: int or None. Cap on the images of each split. Defaults to None (no cap).
        reference_width: int. Side k of the dilation of the reference outlines at 64 px, before
            any resize. Defaults to 1 (the paper's untransformed one-pixel outline). A constant
            width keeps the reference factors constant; 3 keeps the outline visible at 32 px
            (docs/ablations.md).
        padding: str. Where a shrunk digit sits in its zero padding: "centre" (the default) or
            "corner" (top left).

    Returns:
        dict split name -> dict with `images` uint8 (N, size, size, 3), `factors` float32
        (N, 5), `factor_names` (`FACTOR_NAMES`) and `labels` int64 (N,).

    Example:
    >>> from rbvae_tf.data import load_mnist
    >>> splits = build_mnist_style(load_mnist(), size=32, limit=8)
    >>> splits["unlabelled"]["images"].shape
    (8, 32, 32, 3)
    """
    size, seed, limit = check_size(size), check_seed(seed), check_limit(limit)
    padding = check_padding(padding)
    cap = slice(None) if limit is None else slice(limit)
    rngs = {name: np.random.default_rng([seed, i]) for i, name in enumerate(SPLITS)}
    x_train, y_train = mnist["x_train"], mnist["y_train"]
    x_test, y_test = mnist["x_test"], mnist["y_test"]
    half = len(x_train) // 2

    reference = np.arange(half)[cap]
    ref_factors = np.tile(np.float32(REFERENCE_FACTORS), (len(reference), 1))
    ref_factors[:, 4] = check_reference_width(reference_width)
    splits = {"reference": _split(x_train[reference], y_train[reference], ref_factors, size, True)}

    pairs = (half + np.arange(2 * (len(x_train) - half)) // 2)[cap]
    factors = sample_factors(2 * (len(x_train) - half), rngs["unlabelled"])[cap]
    splits["unlabelled"] = _split(x_train[pairs], y_train[pairs], factors, size, padding=padding)

    order = np.random.default_rng([seed, len(SPLITS)]).permutation(len(x_test))
    probe_half = len(x_test) // 2
    for name, part in (("probe_train", order[:probe_half]), ("probe_test", order[probe_half:])):
        part = part[:probe_half][cap]
        factors = sample_factors(probe_half, rngs[name])[cap]
        splits[name] = _split(x_test[part], y_test[part], factors, size, padding=padding)
    return splits

"""The pixels' own probe: exact on pixels that are linear in the factors, and the corner reading shows the scale
more linearly than the centred one on the real data."""

import numpy as np

from rbvae_tf import data
from research.pixel_probe import pixel_probe, table


def test_pixels_linear_in_the_factors_are_read_exactly():
    rng = np.random.default_rng(0)
    factors = np.column_stack([rng.dirichlet([1, 1, 1], 400), rng.uniform(0.5, 1, 400), rng.integers(1, 11, 400)])
    images = (factors @ rng.normal(size=(5, 4 * 4 * 3))).reshape(-1, 4, 4, 3)
    probe = pixel_probe(images[:300], factors[:300], images[300:], factors[300:], components=5)
    assert probe["mae"]["mean"] < 1e-4
    assert table([(4, "centre", probe)])[-1].startswith("| 4 px | centre | 0.000 |")


def test_the_corner_reading_shows_the_scale_more_linearly():
    scale = {}
    for padding in ("centre", "corner"):
        folder = data.cached_mnist_style(size=16, limit=1000, padding=padding)
        train, test = (data.load_split(folder, split) for split in ("probe_train", "probe_test"))
        probe = pixel_probe(train["images"][:600], train["factors"][:600], test["images"], test["factors"], 32)
        scale[padding] = probe["mae"]["scale"]
    assert scale["corner"] < scale["centre"] - 0.02, scale

"""How linearly the data itself shows each factor: the Table-1 probe on principal components of the pixels,
for each reading of App. C.1's zero padding (`--padding centre`, `--padding corner`).

    python -m research.pixel_probe                       # 32 and 64 px, both paddings -> docs/ablations/pixel-probe.md

No model is involved: `probe_train` pixels are projected on their first `COMPONENTS` principal components
(scikit-learn PCA fitted on probe_train), and the linear probe of `rbvae_tf.metrics` reads the normalised
factors from them; the MAE is on probe_test. A factor that the pixels show linearly is one that a model's
codes can show too; the profile (which factor is easiest) is what the padding reading changes.
"""

import argparse
import pathlib

import numpy as np
from sklearn.decomposition import PCA

from rbvae_tf import data
from rbvae_tf.metrics import FACTOR_NAMES, normalise_factors, regression_probe

COMPONENTS = 64
ROOT = pathlib.Path(__file__).resolve().parents[1]


def pixel_probe(train_images, train_factors, test_images, test_factors, components=COMPONENTS):
    """The probe's MAE per factor from the first `components` principal components of the pixels.

    Args:
        train_images, test_images: arrays (N, H, W, C), any numeric type.
        train_factors, test_factors: arrays (N, 5) of raw factors (R, G, B, scale, width).
        components: int. Number of principal components. Defaults to 64.

    Returns:
        {"mae": {factor: float, "mean": float}} as `regression_probe`.
    """
    flat = [np.asarray(x, np.float32).reshape(len(x), -1) / 255.0 for x in (train_images, test_images)]
    pca = PCA(components, random_state=0).fit(flat[0])
    codes = [pca.transform(x) for x in flat]
    return regression_probe(codes[0], normalise_factors(train_factors), codes[1], normalise_factors(test_factors))


def measure(sizes=(32, 64), paddings=("centre", "corner"), mnist=None):
    """[(size, padding, probe result)] on the full probe splits of the cached builds (data seed 0)."""
    rows = []
    for size in sizes:
        for padding in paddings:
            folder = data.cached_mnist_style(size=size, mnist_path=mnist, padding=padding)
            train, test = (data.load_split(folder, split) for split in ("probe_train", "probe_test"))
            probe = pixel_probe(train["images"], train["factors"], test["images"], test["factors"])
            rows.append((size, padding, probe))
    return rows


def table(rows):
    """The markdown table of `measure`'s rows."""
    lines = [
        "| size | padding | " + " | ".join(FACTOR_NAMES) + " | mean |",
        "|---|---|" + "---:|" * (len(FACTOR_NAMES) + 1),
    ]
    for size, padding, probe in rows:
        cells = " | ".join(f"{probe['mae'][k]:.3f}" for k in [*FACTOR_NAMES, "mean"])
        lines.append(f"| {size} px | {padding} | {cells} |")
    return lines


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default=str(ROOT / "docs" / "ablations" / "pixel-probe.md"))
    args = parser.parse_args()
    lines = [
        "# The pixels' own probe, by padding",
        "",
        f"Table-1 probe MAE (normalised factors, probe_test) from the first {COMPONENTS} principal components of "
        "the pixels of the MNIST-style probe splits (data seed 0, 5,000 + 5,000 images), made by "
        "`python -m research.pixel_probe`. The constant floor is .145 for a colour channel, .252 for the scale "
        "and .280 for the width.",
        "",
        *table(measure()),
        "",
    ]
    pathlib.Path(args.out).write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()

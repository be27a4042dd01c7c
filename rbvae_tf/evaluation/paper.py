"""The paper's numbers (Ruiz et al., arXiv 1901.08534) that the reports compare with."""

# Columns of a probe's `mae` dict: the five normalised MNIST-style factors and their mean.
FACTOR_COLUMNS = ("R", "G", "B", "scale", "width", "mean")

# Table 1 of the paper, MNIST, mean absolute error (features: e for Rb models, all latents otherwise).
PAPER_TABLE1_MNIST = {
    "vae": (0.099, 0.104, 0.101, 0.034, 0.085, 0.085),
    "dip-vae-i": (0.055, 0.064, 0.063, 0.038, 0.100, 0.064),
    "dip-vae-ii": (0.077, 0.069, 0.076, 0.035, 0.098, 0.071),
    "beta-vae": (0.093, 0.099, 0.094, 0.039, 0.089, 0.083),
    "svae": (0.094, 0.092, 0.084, 0.036, 0.104, 0.082),
    "rbvae": (0.065, 0.069, 0.062, 0.061, 0.095, 0.070),
    "srbvae": (0.057, 0.053, 0.055, 0.038, 0.095, 0.060),
}
# Sec. 5.3, text: average MAE on MNIST with the z features instead of e.
PAPER_Z_MEAN_MNIST = {"rbvae": 0.195, "srbvae": 0.189}
PAPER_NAMES = {
    "vae": "VAE",
    "dip-vae-i": "DIP-VAE-I",
    "dip-vae-ii": "DIP-VAE-II",
    "beta-vae": "beta-VAE",
    "svae": "sVAE",
    "rbvae": "Rb-VAE",
    "srbvae": "sRb-VAE",
}


def paper_row(kind):
    """Table 1's MAE row of a model kind as `{column: value}`, or None for a model not in the table."""
    row = PAPER_TABLE1_MNIST.get(kind)
    return dict(zip(FACTOR_COLUMNS, row)) if row else None

"""The paper's Appendix D networks (Fig. 6), parametric in image size and width."""

from rbvae_tf.networks.discriminator import build_discriminator
from rbvae_tf.networks.encoder import build_encoder
from rbvae_tf.networks.generator import build_generator
from rbvae_tf.networks.pixel_norm import PixelNorm

__all__ = ["PixelNorm", "build_discriminator", "build_encoder", "build_generator"]

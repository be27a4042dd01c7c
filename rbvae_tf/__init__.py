"""rbvae_tf: reference-based disentangling (Ruiz et al., arXiv 1901.08534) in Keras 3 / TensorFlow.

Importing the package first turns on TensorFlow's oneDNN CPU kernels unless `TF_ENABLE_ONEDNN_OPTS` is
set (`rbvae_tf.runtime`).

Importing the package registers every layer and model with Keras serialization, so that
`keras.models.load_model("run/model.keras")` works in a fresh process after `import rbvae_tf`.
"""

from rbvae_tf import runtime  # noqa: F401  first: picks TensorFlow's CPU kernels before TensorFlow starts
from rbvae_tf._version import __version__  # read by `cli.py --version` without importing the rest
from rbvae_tf.errors import UserError
from rbvae_tf.loading import from_preset
from rbvae_tf.models import MODELS, build_model  # registers the models and layers with Keras

__all__ = ["MODELS", "UserError", "__version__", "build_model", "from_preset"]

"""A fit is reproducible on one machine with the kernels `import rbvae_tf` picks (oneDNN on by default).

oneDNN's convolutions may sum in another order than Eigen's, so the same run gives other weights with
TF_ENABLE_ONEDNN_OPTS=0 than with =1 (float round-off, then amplified by training); this checks that,
with the same kernels, two runs from the same seed end with bit-identical weights, for the adversarial
step (the VAE family's is checked by the β-VAE at β = 1 reproducing the VAE, REPORT.md).
"""

import keras
import numpy as np

from rbvae_tf.config import FitConfig
from rbvae_tf.training import fit


def test_the_same_run_twice_gives_the_same_weights(tmp_path):
    config = dict(model="srbvae", preset="tiny", epochs=1, steps_per_epoch=4, seed=3)
    weights = []
    for name in ("first", "second"):
        run = fit(FitConfig(**config), out=tmp_path / name, verbose=0)
        weights.append(keras.models.load_model(run / "model.keras").get_weights())
    assert len(weights[0]) > 10
    for a, b in zip(*weights):
        np.testing.assert_array_equal(a, b)

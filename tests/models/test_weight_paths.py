"""Every weight of every model has its own path (`target_encoder/enc_0_conv/kernel`, ...), and files
saved before the networks named their weights this way still load to the same values."""

import numpy as np
import pytest

from rbvae_tf.loading import load_trained
from rbvae_tf.models import MODELS, build_model


@pytest.mark.parametrize("name", list(MODELS))
def test_weight_paths_are_unique_and_name_their_network(name):
    model = build_model(name, image_size=16, width=0.125, target_dim=4, common_dim=4)
    paths = [v.path for v in model.weights]
    assert len(set(paths)) == len(paths), sorted(p for p in paths if paths.count(p) > 1)
    networks = {p.split("/")[0] for p in paths}
    expected = {"generator", *(("target_encoder", "common_encoder") if model.reference_based else ("encoder",))}
    assert expected <= networks
    if name in ("svae", "srbvae"):
        assert "discriminator" in networks
    if name == "srbvae":
        assert {
            "reference_discriminator/logit/kernel",
            "target_encoder/enc_0_conv/kernel",
            "common_encoder/enc_0_conv/kernel",
        } <= set(paths)


def test_preset_saved_with_the_former_names_loads_unchanged():
    # zoo/srbvae-mnist-cpu/model.weights.h5 was written when both encoders' weights were `enc_0_conv/...`;
    # Keras stores weights by object structure, so the renamed networks read it back weight for weight.
    import h5py

    model, _ = load_trained("srbvae-mnist-cpu")
    with h5py.File(model_path := "zoo/srbvae-mnist-cpu/model.weights.h5", "r") as f:
        stored = []
        f.visititems(lambda key, item: stored.append(item[()]) if hasattr(item, "shape") else None)
    # the file's own layout (by object structure, not by name): every loaded weight is one of its arrays
    stored_keys = {(a.shape, round(float(np.abs(a).sum()), 3)) for a in stored}
    loaded = [(w.shape, round(float(np.abs(w).sum()), 3)) for w in model.get_weights()]
    assert all(key in stored_keys for key in loaded), model_path
    assert sum(s for _, s in loaded) > 100  # trained values, not initial zeros of the biases alone

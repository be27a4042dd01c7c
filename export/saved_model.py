"""One TensorFlow SavedModel with a named signature per exported graph (`keras.export.ExportArchive`)."""

import keras

from export.graphs import endpoints


def write_saved_model(model, path, graphs=None):
    """Writes `model`'s signatures (see `export.graphs`) as one SavedModel at `path`.

    Only the encoders, the generator and e_r are saved: the discriminators and optimizer states of
    training are not part of inference. The first signature (`transfer`, or `encode` for the
    unsupervised models) is also `serving_default`.

    Args:
        model: LatentModel. Any model of `rbvae_tf.models`.
        path: str or pathlib.Path. The SavedModel folder to write.
        graphs: dict or None. `endpoints(model)`, to share its traces. Defaults to new ones.

    Returns:
        list of str: the signature names.

    Example:
    >>> from rbvae_tf.models import build_model
    >>> write_saved_model(build_model("vae", image_size=16, width=0.125), "/tmp/sm")  # doctest: +SKIP
    ['encode', 'generate']
    """
    archive = keras.export.ExportArchive()
    for network in ("target_encoder", "common_encoder", "encoder", "generator"):
        if hasattr(model, network):
            archive.track(getattr(model, network))  # e_r is tracked by the endpoint that uses it
    graphs = graphs or endpoints(model)
    for name, (fn, input_signature) in graphs.items():
        archive.add_endpoint(name, fn, input_signature=input_signature)
    archive.write_out(str(path), verbose=False)
    return list(graphs)

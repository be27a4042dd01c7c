"""The exported graphs of a model: one function and input signature per SavedModel signature.

Reference-based models (rbvae, srbvae):
    transfer(content, style) -> {images}         G(mean z(content), mean e(style))
    encode_target(images) -> {mean, log_var}     q(e|x)
    encode_common(images) -> {mean, log_var}     q(z|x)
    generate(z, e) -> {images}                   G(z, e)
    reconstruct_reference(images) -> {images}    G(mean z(x), e_r)
Unsupervised models (vae, beta-vae, dip-vae-i/ii, svae) have one latent vector of
target_dim + common_dim values and no e/z split, hence no transfer and no reference:
    encode(images) -> {mean, log_var}
    generate(z) -> {images}
Images are float32 NHWC in [-1, 1] with a dynamic batch dimension. The names of the signatures
are the names of the `LatentModel` methods they export (`keras_outputs` calls those).
"""

import keras
import tensorflow as tf

# ONNX file stem -> the signature it implements (same input and output names).
ONNX_GRAPHS = {
    True: {"transfer": "transfer", "encoder_e": "encode_target", "encoder_z": "encode_common", "generator": "generate"},
    False: {"encoder": "encode", "generator": "generate"},
}


def _images(size, name):
    return tf.TensorSpec((None, size, size, 3), tf.float32, name=name)


def _latents(dim, name):
    return tf.TensorSpec((None, dim), tf.float32, name=name)


def endpoints(model):
    """`{signature name: (fn, input_signature)}` of a model, the first one being the default.

    Each `fn` takes the named tensors of its signature and returns a dict of named outputs. The
    encoders and the generator are each wrapped in one `tf.function` that every signature calls,
    so each network is traced once however many signatures use it (tracing is most of the
    export time); `transfer` and `reconstruct_reference` compose them as `LatentModel` does.

    Args:
        model: LatentModel. Any model of `rbvae_tf.models`.

    Example:
    >>> from rbvae_tf.models import build_model
    >>> fn, signature = endpoints(build_model("srbvae", image_size=16, width=0.125))["transfer"]
    >>> [spec.name for spec in signature]
    ['content', 'style']
    """
    size = model.image_size
    image = [_images(size, "images")]

    def traced_once(fn, input_signature):
        return tf.function(fn, input_signature=input_signature, autograph=False)

    if not model.reference_based:
        latent = [_latents(model.target_dim + model.common_dim, "z")]
        encode = traced_once(lambda images: dict(model.encode(images)), image)
        generate = traced_once(lambda z: {"images": model.generate(z)}, latent)
        return {"encode": (encode, image), "generate": (generate, latent)}

    latents = [_latents(model.common_dim, "z"), _latents(model.target_dim, "e")]
    encode_target = traced_once(lambda images: dict(model.encode_target(images)), image)
    encode_common = traced_once(lambda images: dict(model.encode_common(images)), image)
    generate = traced_once(lambda z, e: {"images": model.generate(z, e)}, latents)

    def transfer(content, style):
        return generate(encode_common(content)["mean"], encode_target(style)["mean"])

    def reconstruct_reference(images):
        z = encode_common(images)["mean"]
        return generate(z, model.reference_latent(tf.shape(z)[0]))

    return {
        "transfer": (transfer, [_images(size, "content"), _images(size, "style")]),
        "encode_target": (encode_target, image),
        "encode_common": (encode_common, image),
        "generate": (generate, latents),
        "reconstruct_reference": (reconstruct_reference, image),
    }


def keras_outputs(model, name, *inputs):
    """The Keras model's own answer for signature `name`: `getattr(model, name)(*inputs)` as a dict
    of numpy arrays, the reference of every parity check."""
    outputs = getattr(model, name)(*inputs)
    if not isinstance(outputs, dict):
        outputs = {"images": outputs}
    return {key: keras.ops.convert_to_numpy(value) for key, value in outputs.items()}


def describe(input_signature, outputs):
    """JSON description of a signature: input and output names with shapes (None = any batch)."""
    return {
        "inputs": {spec.name: spec.shape.as_list() for spec in input_signature},
        "outputs": {name: [None, *value.shape[1:]] for name, value in sorted(outputs.items())},
    }

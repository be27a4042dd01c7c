"""ONNX graphs of a model's signatures, converted in-process by tf2onnx."""

import functools
import json
import warnings

import onnx
import tensorflow as tf

from export.graphs import ONNX_GRAPHS, endpoints

DEFAULT_OPSET = 17
OPSETS = range(13, 19)  # what tf2onnx 1.17 converts to (and ONNX Runtime 1.32 runs)


@functools.cache
def _tf2onnx():
    """tf2onnx, patched for numpy 2 the way Keras' own `model.export(format="onnx")` does."""
    import tf2onnx

    try:
        from keras.src.export.tf2onnx_lib import patch_tf2onnx
    except ImportError:  # a Keras without the patch: tf2onnx may then need numpy < 2
        return tf2onnx
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # its `hasattr(np, "object")` probe
        patch_tf2onnx()
    return tf2onnx


def to_onnx(fn, input_signature, opset=DEFAULT_OPSET, nchw=False, props=None):
    """Converts one signature function to an ONNX `ModelProto` with a dynamic `batch` dimension.

    Args:
        fn: callable. Takes the named tensors of `input_signature`, returns a dict of outputs.
        input_signature: list of tf.TensorSpec with names. Their names become the ONNX input names,
            the dict keys of the outputs the output names.
        opset: int. ONNX opset, 13 to 18. Defaults to 17.
        nchw: bool. Take and return images as NCHW instead of NHWC (tf2onnx's `inputs_as_nchw`,
            `outputs_as_nchw`), which lets it drop the layout transposes. Defaults to False.
        props: dict or None. `metadata_props` to set, values JSON-encoded. Defaults to None.

    Returns:
        onnx.ModelProto, checked by `onnx.checker.check_model`.
    """
    if opset not in OPSETS:
        raise ValueError(f"opset must be {OPSETS.start} to {OPSETS.stop - 1}, got {opset}")
    function = tf.function(fn, input_signature=input_signature, autograph=False)
    images_in = [f"{spec.name}:0" for spec in input_signature if spec.shape.rank == 4]
    images_out = None
    if nchw:
        outputs = function.get_concrete_function().structured_outputs
        images_out = [name for name, value in outputs.items() if value.shape.rank == 4]
    proto, _ = _tf2onnx().convert.from_function(
        function,
        input_signature=input_signature,
        opset=opset,
        inputs_as_nchw=images_in if nchw else None,
        outputs_as_nchw=images_out,
    )
    for value in [*proto.graph.input, *proto.graph.output]:
        value.type.tensor_type.shape.dim[0].dim_param = "batch"
    if props:
        onnx.helper.set_model_props(proto, {key: json.dumps(value) for key, value in props.items()})
    onnx.checker.check_model(proto)
    return proto


def write_onnx(model, directory, opset=DEFAULT_OPSET, props=None, graphs=None):
    """Writes the ONNX graphs of a model (`ONNX_GRAPHS`) to `directory/<name>.onnx`.

    The encoders and the generator are converted by tf2onnx; `transfer.onnx` is composed from those
    three graphs (`compose_transfer`), the same computation at a fraction of a conversion's time.

    Args:
        model: LatentModel.
        directory: pathlib.Path. Created if missing.
        opset: int. Defaults to 17.
        props: dict or None. Common `metadata_props`; each graph also gets `graph` and `signature`.
        graphs: dict or None. `endpoints(model)`, to share its traces. Defaults to new ones.

    Returns:
        dict: file name -> the signature it implements.
    """
    directory.mkdir(parents=True, exist_ok=True)
    graphs = graphs or endpoints(model)
    protos = {
        name: to_onnx(*graphs[signature], opset)
        for name, signature in ONNX_GRAPHS[model.reference_based].items()
        if name != "transfer"
    }
    if model.reference_based:
        protos = {"transfer": compose_transfer(protos["encoder_z"], protos["encoder_e"], protos["generator"]), **protos}
    written = {}
    for name, proto in protos.items():
        signature = ONNX_GRAPHS[model.reference_based][name]
        onnx.helper.set_model_props(
            proto,
            {key: json.dumps(value) for key, value in {**(props or {}), "graph": name, "signature": signature}.items()},
        )
        onnx.checker.check_model(proto)
        onnx.save(proto, str(directory / f"{name}.onnx"))
        written[f"{name}.onnx"] = signature
    return written


def compose_transfer(encoder_z, encoder_e, generator):
    """transfer(content, style) -> images as one graph: G(mean of Z(content), mean of E(style)).

    Args:
        encoder_z, encoder_e: onnx.ModelProto. `images` -> `mean`, `log_var`.
        generator: onnx.ModelProto. `z`, `e` -> `images`.

    Returns:
        onnx.ModelProto with inputs `content`, `style` and output `images`.
    """
    z = _rename_input(onnx.compose.add_prefix(encoder_z, "z/"), "z/images", "content")
    e = _rename_input(onnx.compose.add_prefix(encoder_e, "e/"), "e/images", "style")
    encoders = onnx.compose.merge_models(z, e, io_map=[])
    return onnx.compose.merge_models(
        encoders,
        generator,
        io_map=[("z/mean", "z"), ("e/mean", "e")],
        outputs=["images"],
        producer_name="tf2onnx + onnx.compose",
    )


def _rename_input(proto, old, new):
    for value in proto.graph.input:
        if value.name == old:
            value.name = new
    for node in proto.graph.node:
        node.input[:] = [new if name == old else name for name in node.input]
    return proto

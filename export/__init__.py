"""Deployment artifacts of a trained model: one SavedModel, ONNX graphs and ONNX Runtime scripts.

    from export import export_model
    metadata = export_model(model, info, "exports/run", onnx=True)

The exporting side (`export_model`, `endpoints`, `to_onnx`, `run_infer_bench`) needs TensorFlow;
the ONNX Runtime side (`export.ort_common`, `export.onnx_transfer`, `export.onnx_generate`) needs
numpy, Pillow and onnxruntime only. So this package imports nothing until a name is used, and
`from export import onnx_transfer` never loads TensorFlow. See export/README.md.
"""

import importlib

_LAZY = {
    "export_model": "export.artifacts",
    "endpoints": "export.graphs",
    "ONNX_GRAPHS": "export.graphs",
    "to_onnx": "export.onnx_graphs",
    "write_saved_model": "export.saved_model",
    "run_infer_bench": "export.bench_infer",
}

__all__ = sorted(_LAZY)


def __getattr__(name):
    if name in _LAZY:
        importlib.import_module("rbvae_tf.runtime")  # before TensorFlow: it picks the CPU kernels
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'export' has no attribute {name!r}")

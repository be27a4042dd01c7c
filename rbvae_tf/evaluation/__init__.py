"""Evaluation of a trained model: the feature-learning probes of Table 1 (Sec. 5.3 of Ruiz et al.,
arXiv 1901.08534) and the disentanglement metrics, written as `metrics.json` and `metrics.md`.

One job per module:
- `encoding`: images -> posterior means (and samples) by feature set, and the untrained copy;
- `protocols`: the two probe protocols (MNIST-style factors and digits, a labelled folder);
- `paper`: the paper's Table 1 numbers;
- `readers`: the independent readers (digit classifier, factor regressor) trained on real images;
- `transfer`: attribute transfer and conditional generation scored with the readers;
- `report`: metrics.json, metrics.md and the terminal summary;
- `driver`: `evaluate`, which loads the probe data, runs a protocol and writes the report.

Images are encoded in batches to posterior means (no sampling). The feature sets are `e`, `z` and
`all` (e concatenated with z) for the reference-based models and `all` for the unsupervised ones;
the paper reports `e` for Rb-VAE / sRb-VAE and `all` for the baselines. Two floors put the numbers
in context: `constant` (always predict the train mean) and `untrained` (the same architecture with
a seeded random initialisation, encoded the same way: its e features for reference-based models,
all latents otherwise).

Example:
>>> from rbvae_tf.models import build_model
>>> model = build_model("srbvae", image_size=16, width=0.125, target_dim=4, common_dim=4)
>>> results = evaluate(model, "eval_out", limit=200)  # doctest: +SKIP
>>> sorted(results["probe"])  # doctest: +SKIP
['all', 'constant', 'e', 'untrained', 'z']
"""

from rbvae_tf.evaluation.driver import evaluate, model_summary, reference_health
from rbvae_tf.evaluation.encoding import encode_features, feature_names, model_kind, untrained_copy
from rbvae_tf.evaluation.protocols import evaluate_folder, evaluate_mnist, stratified_halves
from rbvae_tf.evaluation.readers import Readers, readers_for, shipped_readers, train_readers
from rbvae_tf.evaluation.report import metrics_markdown, summary_lines, write_results
from rbvae_tf.evaluation.transfer import evaluate_transfer

__all__ = [
    "evaluate",
    "summary_lines",
    "encode_features",
    "metrics_markdown",
    "write_results",
    "evaluate_mnist",
    "evaluate_folder",
    "stratified_halves",
    "untrained_copy",
    "feature_names",
    "model_kind",
    "model_summary",
    "reference_health",
    "Readers",
    "readers_for",
    "shipped_readers",
    "train_readers",
    "evaluate_transfer",
]

"""Pieces shared by the ablations page, REPORT.md and the cards: the models in table order, the latents that
Table 1 reads, numbers and Markdown tables."""

from rbvae_tf.models import MODELS as _MODELS

MODELS = tuple(_MODELS)  # the seven models of Table 1, in its order


def reference_based(model):
    """Whether model `model` splits its latents into e and z (the class's own `reference_based`)."""
    return _MODELS[model][0].reference_based


def features(model):
    """The probe row Table 1 reports: e for the reference-based models, all latents otherwise."""
    return "e" if reference_based(model) else "all"


def number(value, digits=3):
    """`value` with `digits` decimals, or "-" when there is none."""
    return "-" if value is None else f"{value:.{digits}f}"


def table(headers, rows):
    """A Markdown table, as lines."""
    return [
        "| " + " | ".join(headers) + " |",
        "|" + "---|" * len(headers),
        *("| " + " | ".join(str(c) for c in row) + " |" for row in rows),
    ]

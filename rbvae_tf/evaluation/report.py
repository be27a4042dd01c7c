"""The evaluation's outputs: metrics.json, metrics.md (say per row what a good split wants) and the
few lines `cli.py evaluate` prints."""

import json
import math

import numpy as np

from rbvae_tf.evaluation.paper import FACTOR_COLUMNS, PAPER_NAMES, PAPER_TABLE1_MNIST
from rbvae_tf.files import make_folder, write_text_atomically

FACTOR_HEADERS = ("R", "G", "B", "Scale", "Width", "Avg")
METRIC_NAMES = ("sap", "mig", "dci_disentanglement", "dci_completeness", "dci_informativeness")


def _json_safe(value):
    """NaN/inf -> None, numpy scalars -> Python numbers, recursively (strict JSON)."""
    if isinstance(value, dict):
        return {str(key): _json_safe(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(item) for item in value]
    if isinstance(value, (np.floating, float)):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, np.integer):
        return int(value)
    return value


def write_results(results, out_dir):
    """Writes `metrics.json` and `metrics.md` into `out_dir` (each replaced atomically)."""
    out_dir = make_folder(out_dir)
    text = json.dumps(_json_safe(results), indent=2, allow_nan=False)
    write_text_atomically(out_dir / "metrics.json", text + "\n")
    write_text_atomically(out_dir / "metrics.md", metrics_markdown(results))
    return out_dir / "metrics.json", out_dir / "metrics.md"


def _number(value):
    return "-" if value is None or (isinstance(value, float) and not math.isfinite(value)) else f"{value:.3f}"


def _table(headers, rows):
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


FEATURE_LABELS = {
    "e": "e (target)",
    "z": "z (common)",
    "all": "all (e, z)",
    "constant": "constant (floor)",
    "untrained": "untrained (floor)",
    "e_sampled": "e, posterior sample",
    "z_sampled": "z, posterior sample",
    "all_sampled": "all, posterior sample",
}


def metrics_markdown(results):
    """Table-1-style Markdown report of `results` (as returned by `evaluate`)."""
    model = results["model"]
    lines = [f"# Evaluation of {model['name'] or model['kind']} ({model['kind']}, {model['image_size']} px)", ""]
    if "classification" in results:
        return "\n".join(lines + _folder_markdown(results)) + "\n"
    data = results["data"]
    lines += [
        f"MNIST-style probe splits: {data['probe_train']} train / {data['probe_test']} test images "
        f"(data seed {data['seed']}); posterior means, and one posterior sample per image in the "
        f"`posterior sample` rows; {results['seconds']} s.",
        "",
    ]
    kind, paper = model["kind"], results["paper"]
    lines += ["## Feature learning (Table 1, MNIST): MAE of linear regressors of the target factors", ""]
    if model["reference_based"]:
        lines += [
            "What a good split wants: e low (it holds the target factors), z high, near the constant floor "
            "(z holds none of them). The paper reports the e row for Rb models and z in the text of Sec. 5.3.",
            "",
        ]
    else:
        lines += ["Lower is better. The paper reports the all-latents row for unsupervised models.", ""]
    rows = []
    for name, result in results["probe"].items():
        paper_mean = None
        if paper["mae"] and name == paper["features"]:
            paper_mean = paper["mae"]["mean"]
        elif name == "z":
            paper_mean = paper["z_mean"]
        rows.append(
            [FEATURE_LABELS.get(name, name), *(_number(result["mae"][c]) for c in FACTOR_COLUMNS), _number(paper_mean)]
        )
    paper_header = f"Paper Avg ({paper['model']})" if paper["model"] else "Paper Avg"
    lines += [_table(("Features", *FACTOR_HEADERS, paper_header), rows), ""]
    lines += ["### Paper, Table 1 (MNIST, MAE; e for Rb models, all latents otherwise)", ""]
    paper_rows = [
        [f"**{PAPER_NAMES[name]}**" if name == kind else PAPER_NAMES[name], *(_number(v) for v in row)]
        for name, row in PAPER_TABLE1_MNIST.items()
    ]
    lines += [
        _table(("Model", *FACTOR_HEADERS), paper_rows),
        "",
        "With z as features (Sec. 5.3): Rb-VAE .195, sRb-VAE .189 average MAE.",
        "",
    ]
    lines += ["## Digit classification: mean per-class accuracy of a linear classifier", ""]
    if model["reference_based"]:
        lines += ["What a good split wants: z high (the digit is a common factor), e low (near chance, 0.1).", ""]
    rows = [
        [FEATURE_LABELS[name], _number(accuracy), _number(results["digit_classification"][name]["overall"])]
        for name, accuracy in results["digit_accuracy"].items()
    ]
    lines += [_table(("Features", "Mean per-class", "Overall"), rows), ""]
    lines += ["## Disentanglement metrics of the target factors (normalised)", ""]
    if model["reference_based"]:
        lines += ["What a good split wants: high on e, low on z (z should not hold the target factors).", ""]
    rows = [
        [FEATURE_LABELS[name], *(_number(scores[m]) for m in METRIC_NAMES)]
        for name, scores in results["metrics"].items()
    ]
    lines += [_table(("Features", "SAP", "MIG", "DCI D", "DCI C", "DCI I"), rows)]
    if "health" in results:
        lines += ["", *health_markdown(results["health"])]
    if "transfer" in results:
        lines += ["", *transfer_markdown(results["transfer"])]
    return "\n".join(lines) + "\n"


TRANSFER_TITLE = (
    "## Attribute transfer and conditional generation as numbers (Fig. 3 and 4, read by independent readers)"
)


def transfer_markdown(transfer):
    """The transfer/generation section of metrics.md (`evaluation.transfer`), or its n/a line."""
    if not transfer.get("available"):
        return [TRANSFER_TITLE, "", f"n/a: {transfer['reason']}."]
    readers, scores = transfer["readers"], transfer["transfer"]
    real, errors, style = readers["probe_test"], scores["factor_error"], scores["style_taken"]
    accuracy = scores["digit_accuracy"]
    lines = [
        TRANSFER_TITLE,
        "",
        f"Readers (`rbvae_tf/evaluation/readers.py`, {readers['path']}): a small CNN digit classifier and a "
        f"CNN regressor of the five normalised factors, trained on {readers['train_images']} real probe_train "
        f"images, never on a model's output. On {real['images']} real probe_test images: digit accuracy "
        f"{real['digit_accuracy']:.3f}, factor MAE "
        + ", ".join(f"{name} {real['factor_mae'][c]:.3f}" for name, c in zip(FACTOR_HEADERS, FACTOR_COLUMNS))
        + ".",
        "",
        f"Transfer G(z(A), e(B)) on {scores['pairs']} probe_test pairs (pairing seed {transfer['pair_seed']}), "
        "read by the readers: the digit should be A's, the factors B's. The trivial outputs bound it: identity "
        "(A itself) keeps all the content and takes no style, copy (B itself) the reverse. What a good split "
        "wants: content kept and every style taken near 1 (0: no better than the trivial output).",
        "",
    ]
    rows = [
        [label, _number(accuracy[key]), *(_number(errors[key][c]) for c in FACTOR_COLUMNS)]
        for key, label in (
            ("identity", "identity: A itself"),
            ("copy", "copy: B itself"),
            ("output", "transfer G(z(A), e(B))"),
        )
    ]
    rows.append(
        [
            "**normalised**",
            f"**content kept {_number(scores['content_kept'])}**",
            *(f"**{_number(style[c])}**" for c in FACTOR_COLUMNS),
        ]
    )
    lines += [
        _table(("Output", "Digit acc. (A's label)", *(f"{h} error" for h in FACTOR_HEADERS)), rows),
        "",
        "The last row: content kept = (acc - acc_copy) / (acc_identity - acc_copy); per factor, style taken = "
        "(err_identity - err) / (err_identity - err_copy); Avg is their mean over the five factors.",
        "",
    ]
    recon = transfer["reconstruction"]
    lines += [
        f"Reconstructions G(z(A), e(A)) read against A (how much the generator's blur costs the readers): "
        f"digit accuracy {recon['digit_accuracy']:.3f} (A itself {accuracy['identity']:.3f}), factor MAE "
        + ", ".join(f"{name} {recon['factor_error'][c]:.3f}" for name, c in zip(FACTOR_HEADERS, FACTOR_COLUMNS))
        + f". Content kept with the reconstructions' digit accuracy in place of A's: "
        f"{_number(recon['content_kept_of_reconstruction'])} (1: transfer loses no more of the digit than "
        "reconstruction does).",
        "",
    ]
    generation = transfer["generation"]
    lines += [
        f"Conditional generation G(z(A), e_j), e_j ~ N(0, I): {generation['images']} probe_test images x "
        f"{generation['samples']} sampled e (seed {generation['seed']}). The digit should stay A's: "
        f"{generation['digit_accuracy']:.3f} of the samples are read as A's digit (A itself: "
        f"{accuracy['identity']:.3f}). The factors should vary as in the data: spread = standard deviation "
        "of a read factor over the sampled e of one image, averaged over the images; ratio = spread / the "
        "data's standard deviation (near 1 wanted, 0: e does not move the factor).",
        "",
    ]
    rows = [
        ["spread over e", *(_number(generation["spread"][c]) for c in FACTOR_COLUMNS[:-1]), "-"],
        ["data spread", *(_number(generation["data_spread"][c]) for c in FACTOR_COLUMNS[:-1]), "-"],
        ["**ratio**", *(f"**{_number(generation['spread_ratio'][c])}**" for c in FACTOR_COLUMNS)],
    ]
    return lines + [_table(("Generation", *FACTOR_HEADERS), rows)]


def transfer_summary(transfer):
    """One line for the terminal: content kept and style taken of transfer, digit kept in generation."""
    if not transfer.get("available"):
        return "transfer: n/a (no e/z split)"
    scores, generation = transfer["transfer"], transfer["generation"]
    style = scores["style_taken"]
    return (
        f"transfer: content kept {scores['content_kept']:.3f}, style taken {style['mean']:.3f} (R {style['R']:.2f} "
        f"G {style['G']:.2f} B {style['B']:.2f} scale {style['scale']:.2f} width {style['width']:.2f}); "
        f"generation: digit kept {generation['digit_accuracy']:.3f}, spread ratio "
        f"{generation['spread_ratio']['mean']:.2f}"
    )


def health_markdown(health):
    """The branch-health section of metrics.md (see `rbvae_tf.health`)."""
    accuracies = ", ".join(f"{name} {value:.3f}" for name, value in health["discriminator_accuracy"].items())
    rows = [
        ("reference L1 / all-black L1", _number(health["reference_l1_ratio"]), "< 1 (1: G(z_r, e_r) is black)"),
        ("mass of G(z, e ~ N(0, I)) / data", _number(health["sampled_mass_ratio"]), "near 1 (0: black)"),
        ("mass of G(z, e_r) / reference data", _number(health["reference_mass_ratio"]), "near 1 (0: black)"),
        ("mean norm of e (posterior means)", _number(health["e_norm"]), f"prior {health['e_prior_norm']:.2f}"),
        ("mean norm of z (posterior means)", _number(health["z_norm"]), f"prior {health['z_prior_norm']:.2f}"),
        ("norm of e_r", _number(health["reference_target_norm"]), "starts at 0"),
    ]
    return [
        "## Reference-branch health (1000 unlabelled and 1000 reference training images, "
        f"reference outline width {health['reference_width']} px at 64 px)",
        "",
        _table(("Quantity", "Value", "Healthy"), [list(r) for r in rows]),
        "",
        f"Discriminator accuracies of the last training epoch: {accuracies or 'not recorded'}.",
    ]


def _folder_markdown(results):
    data, classification = results["data"], results["classification"]
    lines = [
        f"Labelled folder {data['path']}: {data['images']} images, {len(data['class_names'])} classes, "
        f"split 50/50 per class ({results['split']['train']} train / {results['split']['test']} test); "
        f"{results['seconds']} s.",
        "",
        "## Per-class accuracy of a linear classifier (AffectNet protocol of Table 1), higher is better",
        "",
    ]
    classes = data["class_names"]
    rows = [
        [
            FEATURE_LABELS.get(name, name),
            *(_number(result["accuracy"][c]) for c in classes),
            _number(result["accuracy"]["mean"]),
        ]
        for name, result in classification.items()
    ]
    return lines + [_table(("Features", *classes, "Avg"), rows)]


def summary_lines(results):
    """A few lines for the terminal: average MAE per feature set and digit accuracy, or folder accuracy."""
    if "classification" in results:
        return [f"{name:>10}: mean per-class accuracy {value:.3f}" for name, value in results["accuracy"].items()]
    lines = [f"{name:>10}: MAE avg {result['mae']['mean']:.3f}" for name, result in results["probe"].items()]
    lines += [f"{name:>10}: digit accuracy {value:.3f}" for name, value in results["digit_accuracy"].items()]
    if "health" in results:
        health = results["health"]
        lines.append(
            f"reference L1 / all-black {health['reference_l1_ratio']:.3f}, mass of G(z, e~N) / data "
            f"{health['sampled_mass_ratio']:.3f}, |e| {health['e_norm']:.1f} (prior "
            f"{health['e_prior_norm']:.1f}), |e_r| {health['reference_target_norm']:.2f}"
        )
    if "transfer" in results:
        lines.append(transfer_summary(results["transfer"]))
    if results["paper"]["mae"]:
        lines.append(
            f"paper ({results['paper']['model']}, {results['paper']['features']}): "
            f"MAE avg {results['paper']['mae']['mean']:.3f}"
        )
    return lines

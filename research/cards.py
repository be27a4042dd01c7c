"""The preset cards (zoo/<preset>/README.md), written from the preset's committed files only.

    python -m research.train_zoo cards              # the seven cards, without loading a model or training

`write_card` reads the preset's own files (config.json, history.csv, metrics.json, metadata.json,
export/metadata.json), the run record's cpu.json and, for a configuration trained over seeds, the seed runs'
records (`train_zoo.preset_seeds`), so every number on a card comes from committed files.

A card has the common model-card form: what the model is and is for, its measured limitations, its numbers
beside the paper's row, how to use it, how to reproduce it, and the provenance last. The numbers are
sections of `NUMBER_SECTIONS` (one function per table), so another kind of score is one more function.
"""

import json
import pathlib

from rbvae_tf.callbacks import read_history
from rbvae_tf.config import PRESET_MODEL_ARGS, FitConfig
from rbvae_tf.evaluation.paper import FACTOR_COLUMNS, PAPER_NAMES, PAPER_TABLE1_MNIST, PAPER_Z_MEAN_MNIST
from research.runs import command
from research.tables import features, reference_based
from research.tables import number as _f
from research.tables import table as _table

# What each model is, in one paragraph of the card ({args}: its model arguments).
DESCRIPTIONS = {
    "vae": "a variational autoencoder (Eq. 1 of the paper, Laplace likelihood) on the paper's Appendix D networks: "
    "one 64-dimensional latent learned from the unlabelled images only, the paper's unsupervised baseline",
    "beta-vae": "a beta-VAE (Eq. 1 with the KL weighted; {args}) on the paper's Appendix D networks: one "
    "64-dimensional latent learned from the unlabelled images only, an unsupervised baseline of Table 1",
    "dip-vae-i": "a DIP-VAE-I (Eq. 1 plus a penalty pushing the covariance of the posterior means to the identity; "
    "{args}) on the paper's Appendix D networks: one 64-dimensional latent learned from the unlabelled "
    "images only, an unsupervised baseline of Table 1",
    "dip-vae-ii": "a DIP-VAE-II (Eq. 1 plus a penalty on the covariance of the whole posterior; {args}) on the "
    "paper's Appendix D networks: one 64-dimensional latent learned from the unlabelled images only, "
    "an unsupervised baseline of Table 1",
    "svae": "a symmetric VAE (Pu et al. 2018) trained adversarially with one discriminator d(x, z) on the paper's "
    "Appendix D networks: one 64-dimensional latent learned from the unlabelled images only, the "
    "adversarial baseline of Table 1",
    "rbvae": "a reference-based VAE (Rb-VAE, Eq. 3 of the paper; {args}): trained on unlabelled images and on a "
    "reference set in which the target factors are constant (white, undilated, full-size digits), it "
    "splits its latent into e (32 dimensions, meant for the target factors: colour, scale and stroke "
    "width) and z (32 dimensions, the rest, above all the digit)",
    "srbvae": "a symmetric reference-based VAE (sRb-VAE, Eq. 8-10 and Alg. 1 of the paper; {args}): Rb-VAE trained "
    "as a two-player game, two discriminators against the encoders and the generator, on unlabelled "
    "images and a reference set in which the target factors are constant (white, undilated, full-size "
    "digits); it splits its latent into e (32 dimensions, meant for the target factors: colour, scale "
    "and stroke width) and z (32 dimensions, the rest, above all the digit)",
}
PAPER_STEPS = 30 * 1666  # the paper's 30 epochs over 60,000 unlabelled images at batch 36
SATURATED = 0.98  # discriminator accuracy above which the adversarial signal of Eq. 8 is weak


# Why each departure from the paper is there (docs/ablations.md has the measurements).
DEPARTURES = {
    "reference_width": "reference outlines drawn {value} px wide at 64 px instead of 1 px: at 32 px a 1 px outline "
    "is a faint half-intensity line and the L1-optimal reconstruction is black, which killed "
    "the reference branch (docs/ablations.md, r00 vs r01)",
    "weight_z_invariance": "{value} x MMD(q(z|x), q(z|x_r)) added: z of unlabelled and of reference images should "
    "have one distribution when z holds no target factor (beyond the paper)",
    "weight_reference_target": "{value} x -log q(e_r | x_r) added: e of reference images pulled to e_r "
    "(beyond the paper)",
    "laplace_scale": "Laplace scale {value} instead of 0.01 (the image terms weigh less against the others)",
    "beta_z": "KL on z weighted {value} (the paper: 1)",
    "beta_e": "KL on e weighted {value} (the paper: 1)",
    "padding": "shrunk digits placed at the {value} of their zero padding instead of its centre: App. C.1 does "
    "not say where the padding goes (docs/ablations.md)",
}


# Regularisation weights the paper tuned in [1, 50] for beta-VAE and DIP-VAE-I/II (research/experiments/sweeps.toml
# sweeps them).
TUNED = {"beta_kl", "lambda_od"}


def departures(fit):
    """Lines saying how a run's configuration departs from the paper's objective and data, and why.

    The reference outline width only matters to the reference-based models; the regularisation weights
    of the tuned baselines (`TUNED`) are the paper's own search, not departures."""
    changes = {k: v for k, v in (fit.get("model_args") or {}).items() if k not in TUNED}
    if (fit.get("reference_width") or 1) != 1 and reference_based(fit.get("model", "srbvae")):
        changes["reference_width"] = fit["reference_width"]
    if (fit.get("padding") or "centre") != "centre":
        changes["padding"] = fit["padding"]
    return [
        f"- `{key}` = {value}: " + DEPARTURES.get(key, "{value}").format(value=value)
        for key, value in sorted(changes.items())
    ]


# config.json "fit" fields a preset command spells out when they differ from the budget's, in this order
SPELLED_OUT = (
    "epochs",
    "steps_per_epoch",
    "seed",
    "learning_rate",
    "discriminator_learning_rate",
    "lr_schedule",
    "reference_width",
    "padding",
)


def reproduce_command(fit, out):
    """The `cli.py fit` command that trains the configuration `fit` (a run's config.json "fit"): the
    training budget plus the options (`SPELLED_OUT`) and `--model-arg`s that differ from it. Raises ValueError
    if the command would not reproduce `fit` exactly (a setting this function does not spell out)."""
    fit = json.loads(FitConfig(**fit).to_json())  # a config.json written before a field existed: its default
    preset_args = PRESET_MODEL_ARGS[fit["preset"]].get(fit["model"], {})
    extra = {k: v for k, v in sorted((fit.get("model_args") or {}).items()) if preset_args.get(k) != v}
    budget = json.loads(FitConfig(model=fit["model"], preset=fit["preset"]).to_json())
    options = {key: fit[key] for key in SPELLED_OUT if fit[key] != budget[key]}
    rebuilt = json.loads(
        FitConfig(model=fit["model"], preset=fit["preset"], model_args=dict(extra), **options).to_json()
    )
    differ = sorted(k for k in set(rebuilt) | set(fit) if rebuilt.get(k) != fit.get(k))
    if differ:
        raise ValueError(f"the preset command does not reproduce this run: {', '.join(differ)} differ")
    items = [*options.items(), *((("model_args", key), value) for key, value in extra.items())]
    return " ".join(command(fit["model"], fit["preset"], items, out))


TRANSFER_HEADING = "### Attribute transfer and generation as numbers"


def transfer_section(metrics):
    """The card's short section on the transfer/generation scores of metrics.json (`evaluation.transfer`);
    the full tables are in the evaluation part of the card."""
    entry = metrics.get("transfer")
    if not (entry or {}).get("available"):  # no e/z split: the evaluation part says n/a and why
        return []
    scores, generation = entry["transfer"], entry["generation"]
    style = scores["style_taken"]
    return [
        TRANSFER_HEADING,
        "",
        f"Read by independent readers (trained on real probe_train images; the full tables are in metrics.md): "
        f"transfer G(z(A), e(B)) on {scores['pairs']} probe_test pairs keeps the content with "
        f"{scores['content_kept']:.2f} and takes the style with R {style['R']:.2f}, G {style['G']:.2f}, "
        f"B {style['B']:.2f}, scale {style['scale']:.2f}, width {style['width']:.2f} (mean {style['mean']:.2f}); "
        f"1 = as well as the real images, 0 = no better than a trivial output (the reference-branch study's "
        f"targets: content >= .90, style >= .80 each). Conditional generation G(z(A), e ~ N(0, I)): "
        f"{generation['digit_accuracy']:.2f} of the samples are read as A's digit; the read factors vary over "
        f"the sampled e {generation['spread_ratio']['mean']:.2f} times as much as in the data (scale "
        f"{generation['spread_ratio']['scale']:.2f}, width {generation['spread_ratio']['width']:.2f}).",
        "",
    ]


# --- the card: read from the preset's committed files only ----------------------------------------


def read_preset(out_dir, record_dir=None):
    """Everything a card says, from the preset folder and (for the provenance) its run record."""
    out_dir = pathlib.Path(out_dir)
    config = json.loads((out_dir / "config.json").read_text())
    history = read_history(out_dir / "history.csv")
    exported = out_dir / "export" / "metadata.json"
    cpu = pathlib.Path(record_dir) / "cpu.json" if record_dir else None
    return {
        "name": out_dir.name,
        "dir": out_dir,
        "fit": config["fit"],
        "model_config": config["model"]["config"],
        "history": history,
        "seconds": sum(float(row["seconds"]) for row in history),
        "metrics": json.loads((out_dir / "metrics.json").read_text()),
        "metadata": json.loads((out_dir / "metadata.json").read_text()),
        "export": json.loads(exported.read_text()) if exported.exists() else None,
        "cpu": json.loads(cpu.read_text()) if cpu and cpu.exists() else None,
        "kernels": config.get("kernels"),
    }  # written by `fit` since oneDNN became the default


def discriminator_accuracies(preset):
    """{name: last-epoch accuracy} of the discriminators (adversarial models; empty otherwise)."""
    last = preset["history"][-1]
    return {k: float(v) for k, v in sorted(last.items()) if "_acc_" in k}


PLATEAU = 1.0  # % per epoch: below this fall of the image term over the last epochs, more training changes little


def reconstruction_trend(history, window=5):
    """(last value, value `window` epochs before, mean % fall per epoch) of the image reconstruction term in
    history.csv (`reconstruction`, or `image` for the adversarial models), or None for a shorter history."""
    column = "reconstruction" if "reconstruction" in history[0] else "image"
    values = [float(row[column]) for row in history]
    if len(values) <= window:
        return None
    last, before = values[-1], values[-1 - window]
    return last, before, 100 * (before - last) / before / window


def seed_limitation(fit, seeds=None):
    """The card's line on training seeds. `seeds`: the preset's configuration over training seeds, a row of
    `zoo.report.seed_summary` (names of the runs, (mean, min, max) of each probe), or None if not measured."""
    seed = fit.get("seed", 0)
    if not seeds or len(seeds["names"]) < 2:
        return f"One training seed ({seed}); how much this configuration's numbers move with the seed was not measured."
    key = features(fit["model"])
    spreads = [
        f"{seeds[name][0]:.3f} [{seeds[name][1]:.3f}-{seeds[name][2]:.3f}] on "
        + ("all latents" if name == "all" else name)
        for name in ((key, "z") if key == "e" else (key,))
    ]
    names = ", ".join(seeds["names"])
    return (
        f"One training seed ({seed}) of {len(seeds['names'])} trained at this recipe ({names}); "
        f"over them the Table 1 average MAE (mean [min-max], REPORT.md) is {' and '.join(spreads)}: a retrain "
        "with another seed can differ from this preset by as much."
    )


def limitations(preset, seeds=None):
    """Measured limitations, one bullet each, from the numbers alone (`seeds`: see `seed_limitation`)."""
    fit, metrics, model = preset["fit"], preset["metrics"], preset["fit"]["model"]
    probe, digits, key = metrics["probe"], metrics["digit_accuracy"], features(model)
    steps = fit["epochs"] * fit["steps_per_epoch"]
    paper, ours = PAPER_TABLE1_MNIST[model], probe[key]["mae"]
    items = [
        f"Trained for {steps:,} steps at {fit['image_size']} px and width {fit['width']}: "
        f"{100 * steps / PAPER_STEPS:.0f} % of the paper's 30 epochs at 64 px and full width.",
        seed_limitation(fit, seeds),
    ]
    trend = reconstruction_trend(preset["history"])
    if trend:
        last, before, fall = trend
        items.append(
            f"The image reconstruction term (-log p(x | latents) per training image, mean of the epoch) "
            f"ended at {last:,.0f} nats, "
            f"on average {fall:.2f} % per epoch below its value five epochs earlier ({before:,.0f}): "
            + (
                "still falling, more training would still change the model."
                if fall > PLATEAU
                else f"less than {PLATEAU:.0f} % per epoch, near its plateau at this learning rate."
            )
        )
    compared = "better than" if ours["mean"] < paper[-1] else "worse than"
    worst = max(FACTOR_COLUMNS[:-1], key=lambda c: ours[c] - paper[FACTOR_COLUMNS.index(c)])
    items.append(
        f"Table 1 average MAE ({key} latents) {_f(ours['mean'])}, {compared} the paper's "
        f"{_f(paper[-1])}; furthest from the paper on {worst} ({_f(ours[worst])} against "
        f"{_f(paper[FACTOR_COLUMNS.index(worst)])})."
    )
    if model in PAPER_Z_MEAN_MNIST:
        z, floor = probe["z"]["mae"]["mean"], probe["constant"]["mae"]["mean"]
        items.append(
            f"z still holds target factors: its average MAE is {_f(z)}, where the paper has "
            f"{_f(PAPER_Z_MEAN_MNIST[model])} and a z without them would be near the constant floor "
            f"{_f(floor)}."
        )
        items.append(
            f"The digit (a common factor) is read from z with {_f(digits['z'])} mean per-class accuracy "
            f"and from e with {_f(digits['e'])} (chance 0.1): "
            + (
                "the digit is mostly in z."
                if digits["z"] - digits["e"] >= 0.2
                else "e still carries much of the digit."
            )
        )
    else:
        items.append(
            "Unsupervised: no split into target and common latents, so no attribute transfer or "
            f"conditional generation; the digit is read from all latents with {_f(digits['all'])} mean "
            "per-class accuracy."
        )
    accuracies = discriminator_accuracies(preset)
    if accuracies and min(accuracies.values()) > SATURATED:
        items.append(
            f"The discriminators end at {min(accuracies.values()):.4f}-{max(accuracies.values()):.4f} "
            "accuracy: saturated, so the adversarial term is weak next to the reconstruction terms."
        )
    items.append(
        "Trained and evaluated on the bundled MNIST-style data of the paper's Sec. 5.1 only; other "
        f"images must be brought to {fit['image_size']} x {fit['image_size']} RGB and will be out of "
        "its distribution."
    )
    return [f"- {item}" for item in items]


def probe_section(preset):
    """Table 1: this preset's probe row beside the paper's row of the same model."""
    model, probe = preset["fit"]["model"], preset["metrics"]["probe"]
    key = features(model)
    rows = [
        [f"paper, {PAPER_NAMES[model]} ({key})", *(_f(v) for v in PAPER_TABLE1_MNIST[model])],
        [f"this preset ({key})", *(_f(probe[key]["mae"][c]) for c in FACTOR_COLUMNS)],
    ]
    if model in PAPER_Z_MEAN_MNIST:
        rows += [
            ["paper, z (Sec. 5.3)", *["-"] * 5, _f(PAPER_Z_MEAN_MNIST[model])],
            ["this preset (z)", *(_f(probe["z"]["mae"][c]) for c in FACTOR_COLUMNS)],
        ]
    rows.append(["constant predictor (floor)", *(_f(probe["constant"]["mae"][c]) for c in FACTOR_COLUMNS)])
    wanted = "e low; z high, near the floor" if model in PAPER_Z_MEAN_MNIST else "low"
    return [
        "### Table 1 probe: MAE of linear regressors of the target factors",
        "",
        f"Held-out probe split (5,000 / 5,000 images); wanted: {wanted}.",
        "",
        *_table(["", "R", "G", "B", "Scale", "Width", "Avg"], rows),
    ]


def digit_section(preset):
    """Digit accuracy of a linear classifier from each set of latents."""
    digits = preset["metrics"]["digit_accuracy"]
    keys = [k for k in ("e", "z", "all") if k in digits]
    wanted = (
        "The digit is a common factor: wanted high from z, low from e (chance 0.1)."
        if "e" in digits
        else "From all latents (chance 0.1); an unsupervised model has no e / z split to compare."
    )
    return [
        "### Digit classification: mean per-class accuracy of a linear classifier",
        "",
        wanted,
        "",
        *_table(keys, [[_f(digits[k]) for k in keys]]),
    ]


def disentanglement_section(preset):
    """SAP, MIG and DCI of the target factors."""
    names = ("sap", "mig", "dci_disentanglement", "dci_completeness", "dci_informativeness")
    rows = [[k, *(_f(v[n]) for n in names)] for k, v in preset["metrics"]["metrics"].items()]
    return [
        "### Disentanglement metrics of the target factors (normalised)",
        "",
        *_table(["latents", "SAP", "MIG", "DCI D", "DCI C", "DCI I"], rows),
    ]


def health_section(preset):
    """The reference branch's health (reference-based models only)."""
    health = preset["metrics"].get("health")
    if not health or "reference_l1_ratio" not in health:
        return []
    return [
        "### Reference-branch health (`rbvae_tf/health.py`)",
        "",
        *_table(
            [
                "reference L1 / all-black",
                "mass G(z, e~N) / data",
                "mass G(z, e_r) / refs",
                "norm of e (prior)",
                "norm of e_r",
            ],
            [
                [
                    _f(health["reference_l1_ratio"]),
                    _f(health["sampled_mass_ratio"]),
                    _f(health["reference_mass_ratio"]),
                    f"{_f(health['e_norm'], 2)} ({_f(health['e_prior_norm'], 2)})",
                    _f(health["reference_target_norm"]),
                ]
            ],
        ),
        "",
        "Reference L1 below 1: G(z, e_r) draws the reference images rather than a black image; masses near 1.",
    ]


# The card's numbers, one table each; a section returns [] when it does not apply to the model.
def transfer_numbers(preset):
    """Fig. 3 / 4 as numbers: the transfer and generation scores of `evaluate` (reference-based models)."""
    return transfer_section(preset["metrics"])


NUMBER_SECTIONS = [probe_section, digit_section, disentanglement_section, health_section, transfer_numbers]


def figure_lines(preset):
    """The preset's figures: Fig. 3 / 4 grids of the reference-based models, the sample grid otherwise."""
    name = preset["name"]
    if (preset["dir"] / "generate.png").exists():
        return [
            "![conditional generation](generate.png)",
            "",
            f"Conditional generation (`python cli.py generate {name} --out generate.png`): each row a probe "
            "image, its reference version G(z, e_r), then G(z, e_j) for e_j ~ N(0, I), the same e_j down each "
            "column.",
            "",
            "![attribute transfer](transfer.png)",
            "",
            f"Attribute transfer (`python cli.py transfer {name} --grid 6 --out transfer.png`): z from the "
            "image at the left of each row, e from the image at the top of each column.",
        ]
    return [
        "![samples](samples.png)",
        "",
        "`samples.png`, the last epoch's sample grid of the training run: top row, training images; middle, "
        "their reconstructions; bottom, images generated from latents drawn from the prior.",
    ]


def usage_lines(preset):
    name, split = preset["name"], reference_based(preset["fit"]["model"])
    lines = [
        "```python",
        "import rbvae_tf",
        "",
        f'model, info = rbvae_tf.from_preset("{name}")',
        "# images: float32 array (n, {0}, {0}, 3) in [-1, 1]".format(preset["fit"]["image_size"]),
    ]
    lines += (
        [
            'e = model.encode_target(images)["mean"]   # target latents (colour, scale, width)',
            'z = model.encode_common(images)["mean"]   # common latents (the digit)',
            "out = model.transfer(content, style)      # G(z(content), e(style)), in [-1, 1]",
        ]
        if split
        else ['codes = model.encode(images)["mean"]     # the 64 latents', "reconstructions = model(images)"]
    )
    lines += [
        "```",
        "",
        "From the command line, with MODEL = the preset's name:",
        "",
        "```bash",
        f"python cli.py evaluate {name} --out-dir eval/{name}  # the numbers below",
    ]
    if split:
        lines += [
            f"python cli.py generate {name} --out grid.png",
            f"python cli.py transfer {name} --content a.png --style b.png --out c.png",
        ]
    lines += [f"python cli.py export {name} --onnx                  # SavedModel + ONNX", "```"]
    if preset["export"]:
        parity = max(v for k, v in preset["export"]["parity"].items() if k.startswith("onnx/"))
        lines += [
            "",
            f"`export/` holds the ONNX graphs of `python cli.py export {name} --onnx` (largest difference "
            f"of a graph to the Keras model {parity:.1e}, `export/metadata.json` under `parity`). Attribute "
            "transfer with ONNX Runtime only (no TensorFlow):",
            "",
            f"    python export/onnx_transfer.py zoo/{name}/export --content a.png --style b.png --out c.png",
        ]
    return lines


def provenance(preset):
    fit, cpu = preset["fit"], preset["cpu"]
    steps = fit["epochs"] * fit["steps_per_epoch"]
    text = (
        f"Trained for {preset['seconds'] / 60:.1f} min ({len(preset['history'])} epochs x {fit['steps_per_epoch']} "
        f"steps = {steps:,} steps of batch {fit['batch_size']}, seed {fit['seed']}; the sum of the epochs' "
        "`seconds` in history.csv)"
    )
    if cpu:
        start = cpu["start"]
        load = start["loadavg"][0]
        text += (
            f" on {start['cores']} cores of an {start['model_name']} "
            f"({'AVX-512' if start['avx512'] else 'no AVX-512'}), load average {load:.1f} at the start "
            f"({'other work was running' if load >= 0.5 else 'idle'})"
        )
        if "wall_seconds" in cpu:
            text += f"; `fit` took {cpu['wall_seconds'] / 60:.1f} min of wall time"
    else:
        text += " on a 2-core CPU (not recorded)"
    kernels = preset.get("kernels")
    text += (
        f"; TensorFlow's {'oneDNN' if kernels['onednn'] else 'Eigen'} CPU kernels"
        if kernels
        else "; CPU kernels not recorded (trained before `fit` recorded them)"
    )
    return (
        text + ". Step times depend on the machine and its load: see [docs/performance.md](../../docs/performance.md)."
    )


def card_lines(preset, note=None, seeds=None):
    fit, model, name = preset["fit"], preset["fit"]["model"], preset["name"]
    arguments = ", ".join(f"{k} = {v}" for k, v in sorted((fit.get("model_args") or {}).items())) or "the paper's"
    key, probe = features(model), preset["metrics"]["probe"]
    summary = (
        f"{PAPER_NAMES[model]} trained on the bundled MNIST-style data at {fit['image_size']} px: Table 1 "
        f"average MAE {_f(probe[key]['mae']['mean'])} on {key} (the paper: {_f(PAPER_TABLE1_MNIST[model][-1])})"
        + (
            f", z {_f(probe['z']['mae']['mean'])} (the paper: {_f(PAPER_Z_MEAN_MNIST[model])})"
            if model in PAPER_Z_MEAN_MNIST
            else ""
        )
        + "."
    )
    use = (
        "attribute transfer: z from one image, e from another, as in the paper's Fig. 4; conditional "
        "generation, Fig. 3; feature learning, Table 1"
        if model in PAPER_Z_MEAN_MNIST
        else "feature learning, Table 1; reconstructions and samples"
    )
    numbers = []
    for section in NUMBER_SECTIONS:
        lines = section(preset)
        numbers += [*lines, ""] if lines else []
    lines = [
        f"# {name}",
        "",
        summary,
        "",
        "## Model",
        "",
        f"`{name}` is " + DESCRIPTIONS[model].format(args=arguments) + ".",
        "",
        f"**Intended use**: trying the library's pipeline on MNIST-style images ({use}), exporting and serving "
        f"({'SavedModel, ONNX, the browser page' if model in PAPER_Z_MEAN_MNIST else 'SavedModel, ONNX'}), "
        "and comparing the seven models at one recipe "
        "([REPORT.md](../../REPORT.md)). It is **not** a reproduction of the paper's Table 1: see the limitations.",
        "",
        "## Limitations (measured)",
        "",
        *limitations(preset, seeds),
        "",
        "## Results",
        "",
        "From `python cli.py evaluate` on the preset (`metrics.json`; every table of the evaluation is in "
        "[metrics.md](metrics.md)).",
        "",
        *numbers,
        *figure_lines(preset),
        "",
        "## How to use",
        "",
        *usage_lines(preset),
        "",
        "## How to reproduce",
        "",
        "Train and evaluate (the run folder's name is free):",
        "",
        f"    {reproduce_command(fit, 'runs/' + name)}",
        f"    python cli.py evaluate runs/{name} --out-dir runs/{name}/eval",
        "",
    ]
    if note:
        lines += [note, ""]
    changes = departures(fit)
    if changes:
        lines += ["Where this configuration departs from the paper:", "", *changes, ""]
    lines += ["## Provenance", "", provenance(preset)]
    return lines


def write_card(out_dir, record_dir=None, note=None, seeds=None):
    """Writes `out_dir`/README.md from the preset's files (and `record_dir`/cpu.json for the provenance;
    `seeds`: the configuration over training seeds, see `seed_limitation`)."""
    preset = read_preset(out_dir, record_dir)
    (pathlib.Path(out_dir) / "README.md").write_text("\n".join(card_lines(preset, note, seeds)) + "\n")
    return preset

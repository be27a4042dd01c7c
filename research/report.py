"""REPORT.md: Table 1 (MNIST) of the paper beside the seven zoo presets, with the sweeps of the tuned baselines.

Written by `python -m research.train_zoo report` from committed files only: each preset's metrics.json,
metadata.json and history.csv under zoo/, and the sweep runs' records under docs/zoo/runs/. The part
between the markers is generated; the text around it (the reading of the numbers) is kept as written.
"""

import json
import pathlib

from rbvae_tf.evaluation.paper import FACTOR_COLUMNS, PAPER_NAMES, PAPER_TABLE1_MNIST, PAPER_Z_MEAN_MNIST
from research.tables import MODELS, features, reference_based
from research.tables import number as _f
from research.tables import table as _table

START, END = "<!-- generated: python -m research.train_zoo report -->", "<!-- end of generated -->"
SEEDS_START, SEEDS_END = "<!-- seeds table: python -m research.train_zoo report -->", "<!-- end of seeds table -->"
README_START, README_END = "<!-- zoo table: python -m research.train_zoo report -->", "<!-- end of zoo table -->"
REFERENCE_BASED = tuple(m for m in MODELS if reference_based(m))
HEADERS = ("R", "G", "B", "Scale", "Width", "Avg")


def load_preset(zoo, model):
    """{metrics, metadata, fit, minutes, cpu} of zoo/<model>-mnist-cpu, or None if it is missing."""
    folder = pathlib.Path(zoo) / f"{model}-mnist-cpu"
    if not (folder / "metrics.json").exists():
        return None
    history = (folder / "history.csv").read_text().splitlines()
    columns = history[0].split(",")
    seconds = sum(float(line.split(",")[columns.index("seconds")]) for line in history[1:])
    return {
        "name": folder.name,
        "metrics": json.loads((folder / "metrics.json").read_text()),
        "metadata": json.loads((folder / "metadata.json").read_text()),
        "fit": json.loads((folder / "config.json").read_text())["fit"],
        "minutes": seconds / 60,
    }


def present(presets, models=MODELS):
    """(model, preset) for each of `models` that has a preset, in table order."""
    return [(model, presets[model]) for model in models if model in presets]


def mae_cells(mae):
    return [_f(mae[c]) for c in FACTOR_COLUMNS]


def table1(presets):
    """Table 1 side by side: per model, the paper's row and ours (same features), and the difference of the means."""
    rows = []
    for model in MODELS:
        paper = dict(zip(FACTOR_COLUMNS, PAPER_TABLE1_MNIST[model]))
        rows.append([PAPER_NAMES[model], features(model), "paper", *mae_cells(paper)])
        preset = presets.get(model)
        if preset:
            ours = preset["metrics"]["probe"][features(model)]["mae"]
            rows.append(["", "", f"ours ({preset['name']})", *mae_cells(ours)])
    return _table(["Model", "Features", "Source", *HEADERS], rows)


def ranking(presets):
    """Models ordered by Table 1's average MAE, the paper's order beside ours."""
    paper = sorted(MODELS, key=lambda m: PAPER_TABLE1_MNIST[m][-1])
    ours = sorted(
        (m for m in MODELS if m in presets), key=lambda m: presets[m]["metrics"]["probe"][features(m)]["mae"]["mean"]
    )
    names = lambda order, value: ", ".join(f"{PAPER_NAMES[m]} {_f(value(m))}" for m in order)  # noqa: E731
    return [
        f"- paper: {names(paper, lambda m: PAPER_TABLE1_MNIST[m][-1])}",
        f"- ours: {names(ours, lambda m: presets[m]['metrics']['probe'][features(m)]['mae']['mean'])}",
    ]


def z_rows(presets):
    rows = []
    for model, preset in present(presets, REFERENCE_BASED):
        probe = preset["metrics"]["probe"]
        rows.append(
            [
                PAPER_NAMES[model],
                _f(PAPER_Z_MEAN_MNIST[model]),
                _f(probe["z"]["mae"]["mean"]),
                _f(probe["e"]["mae"]["mean"]),
                _f(probe["z"]["mae"]["mean"] - probe["e"]["mae"]["mean"]),
            ]
        )
    return _table(["Model", "z avg MAE, paper", "z avg MAE, ours", "e avg MAE, ours", "z - e, ours"], rows)


def split_rows(presets):
    """Per factor, the reference-based models' e, z and all-latents rows beside the constant floor."""
    rows = []
    for model, preset in present(presets, REFERENCE_BASED):
        probe = preset["metrics"]["probe"]
        rows += [[PAPER_NAMES[model], key, *mae_cells(probe[key]["mae"])] for key in ("e", "z", "all", "constant")]
    return _table(["Model", "Features", *HEADERS], rows)


def all_latent_rows(presets):
    """Every model probed on all its latents (64 for each): the same features for all seven."""
    rows = []
    for model, preset in present(presets):
        rows.append([PAPER_NAMES[model], *mae_cells(preset["metrics"]["probe"]["all"]["mae"])])
    return _table(["Model", *HEADERS], rows)


def floor_rows(presets):
    rows = []
    for model, preset in present(presets):
        probe = preset["metrics"]["probe"]
        rows.append(
            [
                PAPER_NAMES[model],
                _f(probe["constant"]["mae"]["mean"]),
                _f(probe["untrained"]["mae"]["mean"]),
                _f(probe[features(model)]["mae"]["mean"]),
            ]
        )
    return _table(["Model", "constant (floor)", "untrained network (floor)", "trained (Table 1 features)"], rows)


def digit_rows(presets):
    rows = []
    for model, preset in present(presets):
        digits = preset["metrics"]["digit_accuracy"]
        rows.append([PAPER_NAMES[model], _f(digits.get("all")), _f(digits.get("e")), _f(digits.get("z"))])
    return _table(["Model", "all latents", "e", "z"], rows)


def metric_rows(presets):
    rows = []
    for model, preset in present(presets):
        for key, values in preset["metrics"]["metrics"].items():
            rows.append(
                [
                    PAPER_NAMES[model],
                    key,
                    *(
                        _f(values[k])
                        for k in ("sap", "mig", "dci_disentanglement", "dci_completeness", "dci_informativeness")
                    ),
                ]
            )
    return _table(["Model", "Features", "SAP", "MIG", "DCI D", "DCI C", "DCI I"], rows)


def health_rows(presets):
    rows = []
    for model, preset in present(presets, REFERENCE_BASED):
        h = preset["metrics"]["health"]
        rows.append(
            [
                PAPER_NAMES[model],
                _f(h["reference_l1_ratio"]),
                _f(h["sampled_mass_ratio"]),
                _f(h["reference_mass_ratio"]),
                f"{_f(h['e_norm'], 1)} ({_f(h['e_prior_norm'], 1)})",
                f"{_f(h['z_norm'], 1)} ({_f(h['z_prior_norm'], 1)})",
                _f(h["reference_target_norm"], 2),
            ]
        )
    return _table(
        [
            "Model",
            "ref. L1 / all-black",
            "mass G(z, e~N) / data",
            "mass G(z, e_r) / refs",
            "norm e (prior)",
            "norm z (prior)",
            "norm e_r",
        ],
        rows,
    )


def budget_rows(presets):
    rows = []
    for model, preset in present(presets):
        fit = preset["fit"]
        arguments = ", ".join(f"{k}={v}" for k, v in sorted((fit.get("model_args") or {}).items())) or "-"
        rows.append(
            [
                f"[{preset['name']}](zoo/{preset['name']}/README.md)",
                PAPER_NAMES[model],
                arguments,
                f"{fit['image_size']} px",
                fit["width"],
                fit["batch_size"],
                f"{fit['epochs'] * fit['steps_per_epoch']:,}",
                f"{fit.get('learning_rate', 1e-4):g}",
                f"{preset['minutes']:.1f}",
            ]
        )
    return _table(
        ["Preset", "Model", "Arguments", "Images", "Width", "Batch", "Steps", "Learning rate", "Train min"], rows
    )


def recipe_note(presets):
    """A sentence when the presets did not all train for one number of steps at one learning rate (their
    comparison is then not at one recipe), else one saying that they did."""
    recipes = {}
    for model, preset in present(presets):
        fit = preset["fit"]
        recipe = f"{fit['epochs'] * fit['steps_per_epoch']:,} steps at {fit.get('learning_rate', 1e-4):g}"
        recipes.setdefault(recipe, []).append(PAPER_NAMES[model])
    if len(recipes) == 1:
        return f" All of them trained for {next(iter(recipes))}: one recipe."
    return (
        " The presets did not all train at one recipe ("
        + "; ".join(f"{recipe}: {', '.join(names)}" for recipe, names in recipes.items())
        + "), so the tables below compare "
        "them at one data budget only; the training-seed sections at the end compare sRb-VAE, Rb-VAE and "
        "DIP-VAE-I at one recipe."
    )


def sweep_budget(sweeps):
    """ "2,400 steps, learning rate 0.0001": the steps and learning rate of the sweep runs (one for all)."""
    budgets = {(r["steps"], r["learning_rate"]) for r in sweeps}
    return "; ".join(f"{steps:,} steps, learning rate {rate:g}" for steps, rate in sorted(budgets)) or "-"


def sweep_table(sweeps, presets):
    rows = []
    for r in sweeps:
        chosen = presets.get(r["model"])
        mark = "**chosen**" if chosen and (chosen["fit"].get("model_args") or {}).get(r["weight"]) == r["value"] else ""
        rows.append(
            [
                PAPER_NAMES[r["model"]],
                f"{r['weight']}={r['value']}",
                *mae_cells(r["factors"]),
                _f(r["digits"]),
                f"{r['minutes']:.1f}",
                f"{r['load']:.1f}",
                r.get("cpu", "-"),
                mark,
            ]
        )
    return _table(["Model", "Weight", *HEADERS, "Digit acc. (all)", "Train min", "Load at start", "CPU", ""], rows)


def transfer_section(presets):
    """Attribute transfer and conditional generation as numbers (metrics.json `transfer`, written by
    `python cli.py evaluate`): one row per preset, n/a for the models without an e/z split."""
    rows, first = [], None
    for model, preset in present(presets):
        entry = preset["metrics"].get("transfer") or {}
        if not entry.get("available"):
            rows.append([PAPER_NAMES[model], "n/a", *[""] * 9])
            continue
        first = first or entry
        scores, generation = entry["transfer"], entry["generation"]
        style = scores["style_taken"]
        rows.append(
            [
                PAPER_NAMES[model],
                _f(scores["content_kept"]),
                *(_f(style[k]) for k in ("R", "G", "B", "scale", "width", "mean")),
                _f(generation["digit_accuracy"]),
                _f(generation["spread_ratio"]["scale"]),
                _f(generation["spread_ratio"]["mean"]),
            ]
        )
    pairs, images, samples = (
        (first["transfer"]["pairs"], first["generation"]["images"], first["generation"]["samples"])
        if first
        else ("N", "N", "M")
    )
    lines = [
        "## Attribute transfer and conditional generation as numbers",
        "",
        f"Transfer G(z(A), e(B)) on {pairs} probe_test pairs, read by independent readers (a CNN digit "
        "classifier and a CNN factor regressor trained on real probe_train images only, "
        "`rbvae_tf/evaluation/readers.py`). Content kept: the digit read is A's, 1 = as often as for A itself, "
        "0 = as rarely as for B. Style taken, per factor: 1 = the read factor is as close to B's as B itself "
        f"reads, 0 = as far as A. Generation G(z(A), e ~ N(0, I)), {images} images x {samples} samples: the "
        "fraction read as A's digit, and the spread of the read factors over the sampled e divided by the "
        "data's (1 wanted). The baselines have no e/z split, so neither is defined for them (`cli.py "
        "transfer` refuses them too). The reference-branch study's targets: content kept >= .90, style taken "
        ">= .80 for colour, scale and width each.",
        "",
    ]
    if first:
        readers = first["readers"]
        real = readers["probe_test"]
        lines += [
            f"Readers ({readers['path']}, {readers['train_images']} probe_train images) on "
            f"{real['images']} real probe_test images: digit accuracy {_f(real['digit_accuracy'])}, factor "
            "MAE " + ", ".join(f"{h} {_f(real['factor_mae'][c])}" for h, c in zip(HEADERS, FACTOR_COLUMNS)) + ".",
            "",
        ]
    return lines + _table(
        [
            "Model",
            "Content kept",
            "Style R",
            "G",
            "B",
            "Scale",
            "Width",
            "Style avg",
            "Gen. digit kept",
            "Gen. spread scale",
            "Gen. spread avg",
        ],
        rows,
    )


def generated(presets, sweeps):
    """The generated part of REPORT.md, as lines."""
    missing = [m for m in MODELS if m not in presets]
    lines = [
        "## The presets",
        "",
        *budget_rows(presets),
        "",
        "Every preset trained on the bundled MNIST-style data (data seed 0, references drawn 3 px wide at 64 px) "
        "with the same image size, width and batch, on the CPU; `Train min` is the sum of the epochs' `seconds` "
        "in the preset's history.csv (the card names the CPU and its load)."
        + recipe_note(presets)
        + (f" Missing: {', '.join(missing)}." if missing else ""),
        "",
        "## Table 1 (MNIST), side by side",
        "",
        "Mean absolute error of linear regressors of the five target factors (normalised colour R, G, B, scale "
        "and stroke width) on the held-out probe split; lower is better. Features as in the paper: all latents "
        "for the baselines, e for the reference-based models.",
        "",
        *table1(presets),
        "",
        "Order by average MAE (best first):",
        "",
        *ranking(presets),
        "",
        "Every model on all of its 64 latents (e and z together for the reference-based ones):",
        "",
        *all_latent_rows(presets),
        "",
        "## z of the reference-based models (Sec. 5.3)",
        "",
        "With z as features the target factors should be hard to predict (high MAE, near the constant floor).",
        "",
        *z_rows(presets),
        "",
        "Per factor, where the reference-based models put each target factor:",
        "",
        *split_rows(presets),
        "",
        "## Floors",
        "",
        "Average MAE of a probe that always predicts the training mean (constant) and of the same probe on the "
        "features of an untrained copy of the network (random weights, same seed).",
        "",
        *floor_rows(presets),
        "",
        "## Digit accuracy",
        "",
        "Mean per-class accuracy of a linear classifier of the digit (a common factor; chance 0.1). A good split "
        "has it high from z and low from e.",
        "",
        *digit_rows(presets),
        "",
        "## Disentanglement metrics of the target factors",
        "",
        "SAP, MIG and DCI (disentanglement, completeness, informativeness) of the five target factors, "
        "normalised; for the reference-based models on e (wanted high) and on z (wanted low).",
        "",
        *metric_rows(presets),
        "",
        "## Reference-branch health of the reference-based models",
        "",
        "`rbvae_tf/health.py`: reference L1 below 1 means G(z, e_r) draws the reference images rather than a "
        "black image; masses near 1; norms of the posterior means beside the prior's.",
        "",
        *health_rows(presets),
        "",
        "## Sweeps of the tuned baselines",
        "",
        f"Each run at {sweep_budget(sweeps)} with one regularisation weight; the preset trains the weight of the "
        "lowest all-latents MAE at the presets' recipe (the paper tuned these weights in [1, 50] and reported the "
        "best). Commands: "
        "`python -m research.train_zoo run NAME` (NAME = model-value, e.g. `beta-vae-16`); records in "
        "[docs/zoo/runs](docs/zoo/runs).",
        "",
        *sweep_table(sweeps, presets),
        "",
        *transfer_section(presets),
        "",
        "## Conditional generation (Fig. 3) and attribute transfer (Fig. 4)",
        "",
    ]
    for model, preset in present(presets, REFERENCE_BASED):
        lines += [
            f"{PAPER_NAMES[model]} (`{preset['name']}`): conditional generation (each row: an image, "
            "its reference version G(z, e_r), then G(z, e_j) for e_j ~ N(0, I)), then transfer (z from "
            "the left column, e from the top row).",
            "",
            f"![{model} generation](zoo/{preset['name']}/generate.png) "
            f"![{model} transfer](zoo/{preset['name']}/transfer.png)",
            "",
        ]
    return lines


def seed_summary(records, groups):
    """{label: {model, names, planned, e/z/all/digit_e/digit_z: (mean, min, max) or None}} over the training
    seeds of each group (label -> (model, run names)): `names` are the runs whose records
    (`records`/NAME/metrics.json) exist, `planned` how many the group names; a group with none is left out."""
    summary = {}
    for label, (model, names) in groups.items():
        done = [name for name in names if (pathlib.Path(records) / name / "metrics.json").exists()]
        if not done:
            continue
        runs = [json.loads((pathlib.Path(records) / name / "metrics.json").read_text()) for name in done]
        row = {"model": model, "names": tuple(done), "planned": len(names)}
        for key, get in (
            ("e", lambda m: m["probe"].get("e")),
            ("z", lambda m: m["probe"].get("z")),
            ("all", lambda m: m["probe"].get("all")),
        ):
            values = [entry["mae"]["mean"] for entry in map(get, runs) if entry]
            row[key] = (sum(values) / len(values), min(values), max(values)) if values else None
        for key in ("e", "z", "all"):
            values = [m["digit_accuracy"][key] for m in runs if key in m["digit_accuracy"]]
            row[f"digit_{key}"] = (sum(values) / len(values), min(values), max(values)) if values else None
        summary[label] = row
    return summary


def _spread(value):
    return "-" if value is None else f"{value[0]:.3f} [{value[1]:.3f}-{value[2]:.3f}]"


def seed_rows(summary):
    """Table 1's average MAE over training seeds beside the paper's: mean [min-max] of each configuration."""
    rows = []
    for label, row in summary.items():
        model, feats = row["model"], features(row["model"])
        seeds = len(row["names"])
        count = seeds if seeds == row.get("planned", seeds) else f"{seeds} of {row['planned']}"
        rows.append(
            [
                label,
                count,
                feats,
                _f(PAPER_TABLE1_MNIST[model][-1]),
                _spread(row[feats]),
                _f(PAPER_Z_MEAN_MNIST.get(model)),
                _spread(row["z"]),
                _spread(row[f"digit_{feats}"]),
                _spread(row["digit_z"]),
            ]
        )
    return _table(
        [
            "Configuration",
            "Seeds",
            "Features",
            "Avg MAE, paper",
            "Avg MAE, ours",
            "z MAE, paper",
            "z MAE, ours",
            "Digit acc. (features)",
            "Digit acc. (z)",
        ],
        rows,
    )


def orderings(summary):
    """One sentence per pair of configurations: which has the lower Table 1 MAE, and whether the gap exceeds
    both seed ranges (resolved) or not."""
    lines, labels = [], list(summary)
    for i, a in enumerate(labels):
        for b in labels[i + 1 :]:
            (ma, la, ha), (mb, lb, hb) = (summary[k][features(summary[k]["model"])] for k in (a, b))
            low, high = (a, b) if ma <= mb else (b, a)
            if min(len(summary[k]["names"]) for k in (a, b)) < 2:
                verdict = "one training seed, no range: not resolved."
            elif ha < lb or hb < la:
                verdict = "**resolved** (the seed ranges do not overlap)."
            else:
                verdict = "not resolved (the seed ranges overlap)."
            lines.append(f"- {low} below {high} by {abs(ma - mb):.3f}: {verdict}")
    return lines


def seed_section(summary, title, text):
    if not summary:
        return []
    return [f"## {title}", "", text, "", *seed_rows(summary), "", *orderings(summary), ""]


def headline(presets):
    """The README's table: Table 1's average MAE, the paper's and ours, with the digit accuracies."""
    rows = []
    for model, preset in present(presets):
        probe, digits = preset["metrics"]["probe"], preset["metrics"]["digit_accuracy"]
        z = probe["z"]["mae"]["mean"] if "z" in probe else None
        rows.append(
            [
                PAPER_NAMES[model],
                features(model),
                _f(PAPER_TABLE1_MNIST[model][-1]),
                _f(probe[features(model)]["mae"]["mean"]),
                _f(PAPER_Z_MEAN_MNIST.get(model)),
                _f(z),
                _f(digits.get(features(model))),
                _f(digits.get("z")),
                f"[{preset['name']}](zoo/{preset['name']}/README.md)",
            ]
        )
    return _table(
        [
            "Model",
            "Features",
            "Avg MAE, paper",
            "Avg MAE, ours",
            "z MAE, paper",
            "z MAE, ours",
            "Digit acc. (features)",
            "Digit acc. (z)",
            "Preset",
        ],
        rows,
    )


def _replace_between(path, start, end, lines, new_file_head="# Report\n\n"):
    path = pathlib.Path(path)
    text = path.read_text() if path.exists() else f"{new_file_head}{start}\n{end}\n"
    if start not in text:
        raise SystemExit(f"{path} has no marker {start!r}")
    head, _, rest = text.partition(start)
    _, _, tail = rest.partition(end)
    path.write_text(f"{head}{start}\n" + "\n".join(lines) + f"\n{end}{tail}")


def write_report(zoo, sweeps, out, readme=None, seeds=None):
    """Regenerates the part of `out` between START and END (creating the file if needed), and the
    headline table of `readme` between README_START and README_END. `seeds`: a list of (title, text,
    `seed_summary`) sections, after the presets' tables; the first also goes to `readme` between
    SEEDS_START and SEEDS_END when it has those markers."""
    presets = {m: p for m in MODELS if (p := load_preset(zoo, m))}
    sections = [line for title, text, summary in seeds or [] for line in seed_section(summary, title, text)]
    _replace_between(out, START, END, generated(presets, sweeps) + sections)
    if readme is not None:
        _replace_between(readme, README_START, README_END, headline(presets))
        if seeds and SEEDS_START in pathlib.Path(readme).read_text():
            summary = seeds[0][2]
            _replace_between(readme, SEEDS_START, SEEDS_END, [*seed_rows(summary), "", *orderings(summary)])
    return presets

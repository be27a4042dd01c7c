"""The reference-branch study (research/experiments/ablations.toml): train, evaluate and report, one run at a time.

    python -m research.ablations run r01-ref3 r02-mmd   # train + evaluate + grids (skips what is done)
    python -m research.ablations report                 # docs/ablations.md table and docs/ablations/*.png
    python -m research.ablations restore                # a fresh checkout: runs/ablations from the committed records

Every run is the cpu budget (32 px, width 1/2, 6 x 400 steps, batch 36, unless the run says) with ONE change
against its parent, trained by exactly the `cli.py fit` command printed in the report. Runs live in
`--root` (default runs/ablations/NAME); each records the CPU it trained on in `cpu.json`.
"""

import argparse
import json
import pathlib
import re
import shutil

from rbvae_tf.callbacks import read_history
from research import records, runner
from research.layout import DOCS, ZOO
from research.runs import EXPERIMENTS, arguments, fit_command, load_runs, options
from research.tables import number as _f
from research.tables import reference_based

RUNS = load_runs(EXPERIMENTS / "ablations.toml")
TABLE_START, TABLE_END = "<!-- table: python -m research.ablations report -->", "<!-- end of table -->"


def record(name, root, docs):
    """Copies a finished run's record (config, history, CPU, metrics) to docs/ablations/runs/NAME (committed)."""
    records.record(root / name, docs / "ablations" / "runs" / name)


def restore(name, root, docs):
    """The inverse of `record` plus the grids, so that `report` runs in a fresh checkout without retraining."""
    records.restore(name, root, docs, grids=reference_based(RUNS[name].model))


def command_text(name):
    """The `cli.py fit` command of run `name`; for a run trained by an earlier version of the code, how it was
    trained and the options that train it with today's code."""
    run = RUNS[name]
    if run.trained_before:
        return f"{run.trained_before}; with today's code: {today(run)}"
    return " ".join(fit_command(run, RUNS, pathlib.Path("runs/ablations")))


def today(run):
    """`python cli.py fit OPTIONS`, the options of `run` alone (a run trained by an earlier version)."""
    return " ".join(["python", "cli.py", "fit", *options(arguments(run, RUNS))])


def command_line(name):
    """The page's line naming run `name`'s `cli.py fit` command."""
    run = RUNS[name]
    if run.trained_before:
        return f"- `{name}`: {run.trained_before}; with today's code: `{today(run)}`"
    return f"- `{name}`: `{command_text(name)}`"


def transfer_scores(metrics):
    """(content kept, style taken per factor, generation digit kept) of `evaluate`'s transfer scores, or None
    (a baseline, or a run evaluated before the scores existed: `rm -r RUN/eval` and `run` evaluates again)."""
    entry = metrics.get("transfer") or {}
    if not entry.get("available"):
        return None
    return {
        "content": entry["transfer"]["content_kept"],
        "style": entry["transfer"]["style_taken"],
        "generation_digit": entry["generation"]["digit_accuracy"],
    }


def mae(probe, key):
    """The mean MAE over the target factors of one probe, or None where the model has no such latents."""
    return probe[key]["mae"]["mean"] if key in probe else None


def row(name, root):
    """One table row of a finished, evaluated run, or None."""
    metrics_path = root / name / "eval" / "metrics.json"
    if not metrics_path.exists():
        return None
    metrics = json.loads(metrics_path.read_text())
    run_dir = root / name
    history = read_history(run_dir / "history.csv")
    minutes = sum(float(r["seconds"]) for r in history) / 60
    fit = json.loads((run_dir / "config.json").read_text())["fit"]
    steps = fit["epochs"] * fit["steps_per_epoch"]
    cpu_path = run_dir / "cpu.json"
    cpu = json.loads(cpu_path.read_text())["start"] if cpu_path.exists() else None
    probe, digits, health = metrics["probe"], metrics["digit_accuracy"], metrics.get("health", {})
    accuracy = health.get("discriminator_accuracy", {})
    acc = "/".join(
        _f(accuracy.get(k), 2)
        for k in (
            "discriminator_acc_real",
            "discriminator_acc_fake",
            "reference_discriminator_acc_real",
            "reference_discriminator_acc_fake",
        )
        if k in accuracy
    )
    run = RUNS[name]
    return {
        "name": name,
        "parent": run.parent or "-",
        "change": run.change,
        "model": run.model,
        "command": command_text(name),
        "steps": steps,
        "minutes": minutes,
        "cpu": (
            f"{cpu['model_name']}, {'AVX-512' if cpu['avx512'] else 'no AVX-512'}, load {cpu['loadavg'][0]:.1f}"
            if cpu
            else "not recorded"
        ),
        # the unsupervised baselines (seed runs) have one latent space: only "all" and its digit accuracy
        "e": mae(probe, "e"),
        "z": mae(probe, "z"),
        "all": mae(probe, "all"),
        "e_s": mae(probe, "e_sampled"),
        "z_s": mae(probe, "z_sampled"),
        "all_s": mae(probe, "all_sampled"),
        "digit_e": digits.get("e"),
        "digit_z": digits.get("z"),
        "digit_all": digits.get("all"),
        "ref_l1": health.get("reference_l1_ratio"),
        "sampled_mass": health.get("sampled_mass_ratio"),
        "ref_mass": health.get("reference_mass_ratio"),
        "e_norm": health.get("e_norm"),
        "e_prior": health.get("e_prior_norm"),
        "z_norm": health.get("z_norm"),
        "er_norm": health.get("reference_target_norm"),
        "disc_acc": acc or "-",
        "transfer": transfer_scores(metrics),
        "factors": dict(probe.get("e", probe["all"])["mae"]),
        "z_factors": dict(probe["z"]["mae"]) if "z" in probe else None,
        "untrained_factors": dict(probe["untrained"]["mae"]) if "untrained" in probe else None,
        "generation_spread": (metrics.get("transfer") or {}).get("generation", {}).get("spread_ratio"),
        "discriminator_accuracy": accuracy,
        "adversarial_per_epoch": [float(r["adversarial"]) for r in history if r.get("adversarial") not in (None, "")],
    }


SEED_GROUPS = {
    "sRb-VAE (r10-lr3e4)": ("r10-lr3e4", "s1-r10", "s2-r10"),
    "Rb-VAE (rb02-betae10, lr 3e-4)": ("s0-rb02-lr3e4", "s1-rb02-lr3e4", "s2-rb02-lr3e4"),
    "DIP-VAE-I (lambda_od 4, lr 3e-4)": ("s0-dip-vae-i-lr3e4", "s1-dip-vae-i-lr3e4", "s2-dip-vae-i-lr3e4"),
}


def _seeds(name):
    """A run and its training seeds 1 and 2, named as the experiment file names them."""
    return (name, f"{name}-s1", f"{name}-s2")


def _long_seeds(stem):
    """The 12,000-step runs l0-, l1-, l2-<stem> (training seeds 0, 1, 2)."""
    return tuple(f"l{seed}-{stem}" for seed in range(3))


# The same three configurations at 30 x 400 = 12,000 steps, the presets' recipe, training seeds 0, 1, 2 (seed 0
# is the preset).
LONG_GROUPS = {
    "sRb-VAE": _long_seeds("r10"),
    "Rb-VAE": _long_seeds("rb02-lr3e4"),
    "DIP-VAE-I": _long_seeds("dip-vae-i-lr3e4"),
}
# The baselines' presets over the same seeds, for their order among themselves (sVAE, 19 min a seed, has one).
BASELINE_GROUPS = {
    "VAE": _long_seeds("vae"),
    "beta-VAE (beta_kl 16)": _long_seeds("beta-vae-16"),
    "DIP-VAE-I (lambda_od 4)": LONG_GROUPS["DIP-VAE-I"],
    "DIP-VAE-II (lambda_od 16)": _long_seeds("dip-vae-ii-16"),
}


# The scale levers over training seeds 0, 1, 2, beside the recipe's own three seeds.
SCALE_GROUPS = {
    "recipe (r10-lr3e4)": ("r10-lr3e4", "s1-r10", "s2-r10"),
    **{name: _seeds(name) for name in RUNS if re.fullmatch(r"k\d\d-[a-z]+", name)},
    "c02-corner (data: --padding corner)": _seeds("c02-corner"),
    "x01-combined (c02 + k05 + k03)": _seeds("x01-combined"),
    "b01-bf16 (--mixed-precision bf16)": _seeds("b01-bf16"),
    "recipe at 12,000 steps (l0-r10)": _long_seeds("r10"),
    "x02-corner-long (c02 + k03, 12,000 steps)": _seeds("x02-corner-long"),
    "x03-corner-long (c02, 12,000 steps)": _seeds("x03-corner-long"),
}


# The data's reading of App. C.1 (`--padding`): each model over training seeds 0, 1, 2, digits shrunk about the
# centre of their zero padding (the recipe) and at its top-left corner.
PADDING_GROUPS = {
    "VAE, centre (v0-vae-lr3e4)": _seeds("v0-vae-lr3e4"),
    "VAE, corner (c01-vae-corner)": _seeds("c01-vae-corner"),
    "sRb-VAE, centre (r10-lr3e4)": SCALE_GROUPS["recipe (r10-lr3e4)"],
    "sRb-VAE, corner (c02-corner)": _seeds("c02-corner"),
    "VAE, centre, 12,000 steps (l0-vae)": _long_seeds("vae"),
    "VAE, corner, 12,000 steps (y02-vae-corner-long)": _seeds("y02-vae-corner-long"),
    "DIP-VAE-I, centre, 12,000 steps (l0-dip-vae-i-lr3e4)": _long_seeds("dip-vae-i-lr3e4"),
    "DIP-VAE-I, corner, 12,000 steps (y01-dip-vae-i-corner-long)": _seeds("y01-dip-vae-i-corner-long"),
    "sRb-VAE, centre, 12,000 steps (l0-r10)": SCALE_GROUPS["recipe at 12,000 steps (l0-r10)"],
    "sRb-VAE, corner, 12,000 steps (x03-corner-long)": SCALE_GROUPS["x03-corner-long (c02, 12,000 steps)"],
}


def padding_measures(r):
    """The probe profile of one row (e for the reference-based models, all latents for the others), the untrained
    encoder's scale, z's scale, the transfer's scale and content, and the digit accuracy (None where missing)."""
    f, t = r["factors"], r["transfer"]
    return {
        "colour": sum(f[k] for k in "RGB") / 3,
        "scale": f["scale"],
        "width": f["width"],
        "mean": f["mean"],
        "untrained_scale": (r.get("untrained_factors") or {}).get("scale"),
        "z_scale": (r["z_factors"] or {}).get("scale"),
        "style_scale": t["style"]["scale"] if t else None,
        "content": t["content"] if t else None,
        "digit": r["digit_z"] if r["digit_z"] is not None else r["digit_all"],
    }


PADDING_COLUMNS = (
    ("colour", "probe: colour"),
    ("scale", "probe: scale"),
    ("width", "probe: width"),
    ("mean", "probe: mean"),
    ("untrained_scale", "untrained encoder: scale"),
    ("z_scale", "z probe: scale"),
    ("style_scale", "style taken: scale"),
    ("content", "content kept"),
    ("digit", "digit accuracy (z, or all)"),
)


def group_cells(rows, names, measures, columns):
    """Mean [min-max] cells of `columns` over the runs `names` (None if one of them is not done)."""
    by_name = {r["name"]: r for r in rows}
    if not all(n in by_name for n in names):
        return None
    values = [measures(by_name[n]) for n in names]
    cells = []
    for key, _ in columns:
        column = [v[key] for v in values if v[key] is not None]
        digits = 1 if key == "eq8_peak" else (2 if key == "max_accuracy" else 3)
        cells.append(
            f"{sum(column) / len(column):.{digits}f} [{min(column):.{digits}f}-{max(column):.{digits}f}]"
            if column
            else "-"
        )
    return cells


def groups_table(rows, intro, groups, measures, columns):
    """A table of mean [min-max] over training seeds: one line per complete group of `groups` ({label: run
    names}), one cell per column of `columns` ((key, heading) of `measures(row)`); [] if no group is complete."""
    lines = [
        "",
        intro,
        "",
        "| configuration | " + " | ".join(h for _, h in columns) + " |",
        "|" + "---|" * (len(columns) + 1),
    ]
    for label, names in groups.items():
        cells = group_cells(rows, names, measures, columns)
        if cells:
            lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return lines if len(lines) > 5 else []


def padding_table(rows):
    """Mean [min-max] over training seeds of each complete group of PADDING_GROUPS."""
    intro = (
        "The data's reading of App. C.1 over training seeds 0, 1, 2 (mean [min-max]; probe: e for sRb-VAE, all "
        "latents for the VAE; `--padding corner` against the centred runs of the same seeds):"
    )
    return groups_table(rows, intro, PADDING_GROUPS, padding_measures, PADDING_COLUMNS)


def scale_measures(r):
    """The measures of the scale study for one row: what each lever is judged on (None where missing)."""
    t, z = r["transfer"], r["z_factors"] or {}
    adversarial = [abs(v) for v in r["adversarial_per_epoch"]]
    median = sorted(adversarial)[len(adversarial) // 2] if adversarial else None
    return {
        "z_scale": z.get("scale"),
        "style_scale": t["style"]["scale"] if t else None,
        "style_width": t["style"]["width"] if t else None,
        "style_colour": sum(t["style"][k] for k in "RGB") / 3 if t else None,
        "content": t["content"] if t else None,
        "generation_scale": (r["generation_spread"] or {}).get("scale"),
        "e": r["e"],
        "z": r["z"],
        "max_accuracy": max(r["discriminator_accuracy"].values(), default=None),
        "eq8_peak": max(adversarial) / median if adversarial and median else None,
    }


SCALE_COLUMNS = (
    ("z_scale", "z probe: scale (high wanted, floor .252)"),
    ("style_scale", "style taken: scale"),
    ("style_width", "style: width"),
    ("style_colour", "style: colour (mean R, G, B)"),
    ("content", "content kept"),
    ("generation_scale", "generation spread: scale"),
    ("e", "e probe (low wanted)"),
    ("z", "z probe (high wanted)"),
    ("max_accuracy", "highest last-epoch disc. accuracy"),
    ("eq8_peak", "largest Eq. 8 term / median"),
)


def scale_table(rows):
    """Mean [min-max] over the seeds of each complete group of SCALE_GROUPS, on the scale measures."""
    intro = (
        "The scale levers over training seeds 0, 1, 2 (mean [min-max]; a lever helps only where its range "
        "clears the recipe's; targets: z scale >= .20, style scale >= .60, width and colour >= .80, content "
        ">= .90, accuracy <= .95, Eq. 8 peak <= 10):"
    )
    return groups_table(rows, intro, SCALE_GROUPS, scale_measures, SCALE_COLUMNS)


def seed_table(rows):
    """Mean [min-max] over training seeds 0-2 of each configuration of SEED_GROUPS whose runs are all done."""
    by_name = {r["name"]: r for r in rows}
    keys = ("e", "z", "all", "digit_e", "digit_z", "digit_all")
    lines = [
        "",
        "Training seeds 0, 1, 2 (mean [min-max]; an ordering is resolved only where the gap exceeds both ranges):",
        "",
        "| configuration | seeds | e | z | all | digit e | digit z | digit all |",
        "|" + "---|" * 8,
    ]
    for label, names in SEED_GROUPS.items():
        if not all(n in by_name for n in names):
            continue
        cells = []
        for key in keys:
            values = [by_name[n][key] for n in names if by_name[n][key] is not None]
            cells.append(f"{sum(values) / len(values):.3f} [{min(values):.3f}-{max(values):.3f}]" if values else "-")
        lines.append(f"| {label} | {len(names)} | " + " | ".join(cells) + " |")
    return lines if len(lines) > 5 else []


def grid_link(grid, copy, zoo):
    """The page's link to a run's grid: a preset's own file under `zoo` when it is byte-identical (the run
    published as that preset), so one image is stored once; else `copy`, written from `grid`."""
    data = grid.read_bytes()
    for published in sorted(pathlib.Path(zoo).glob(f"*/{grid.name}")):
        if published.read_bytes() == data:
            copy.unlink(missing_ok=True)
            return f"../zoo/{published.parent.name}/{grid.name}"
    shutil.copyfile(grid, copy)
    return f"ablations/{copy.name}"


def report(root, docs, zoo=ZOO):
    """docs/ablations.md's generated part (between TABLE_START and TABLE_END) and ROOT/ablations.json from the
    evaluated runs under `root`; returns the rows."""
    rows = [r for r in (row(name, root) for name in RUNS) if r]
    images = docs / "ablations"
    images.mkdir(parents=True, exist_ok=True)
    for r in rows:
        r["grids"] = (
            {
                kind: grid_link(root / r["name"] / f"{kind}.png", images / f"{r['name']}-{kind}.png", zoo)
                for kind in ("generate", "transfer")
            }
            if reference_based(r["model"])
            and all((root / r["name"] / f"{kind}.png").exists() for kind in ("generate", "transfer"))
            else None
        )
    lines = [
        "Probes (MAE of linear regressors of the five target factors, mean over factors: e low and z high are "
        "wanted) and digit accuracy (z high, e low are wanted):",
        "",
        "| run | change (against parent) | steps | train min | CPU at start | e | z | all | e (sample) | z (sample) "
        "| all (sample) | digit e | digit z | digit all |",
        "|" + "---|" * 14,
    ]
    for r in rows:
        lines.append(
            f"| {r['name']} | {r['change']} (parent {r['parent']}) | {r['steps']} | {r['minutes']:.1f} | {r['cpu']} "
            f"| {_f(r['e'])} | {_f(r['z'])} | {_f(r['all'])} | {_f(r['e_s'])} | {_f(r['z_s'])} | {_f(r['all_s'])} "
            f"| {_f(r['digit_e'])} | {_f(r['digit_z'])} | {_f(r['digit_all'])} |"
        )
    lines += [
        "",
        "Attribute transfer G(z(A), e(B)) and conditional generation G(z(A), e ~ N(0, I)) read by independent "
        "readers ([transfer-scores.md](transfer-scores.md)): content kept and style taken, 1 = perfect, 0 = nothing "
        "moved (targets: content >= .90, style >= .80 for colour, scale and width):",
        "",
        "| run | content kept | style R | style G | style B | style scale | style width | generation: digit kept |",
        "|" + "---|" * 8,
    ]
    for r in rows:
        t = r["transfer"]
        if t:
            lines.append(
                f"| {r['name']} | {_f(t['content'], 2)} | "
                + " | ".join(_f(t["style"][k], 2) for k in ("R", "G", "B", "scale", "width"))
                + f" | {_f(t['generation_digit'], 2)} |"
            )
    lines += [
        "",
        "Branch health (`rbvae_tf/health.py`) and grids:",
        "",
        "| run | ref L1 / all-black | mass G(z, e~N) / data | mass G(z, e_r) / refs | mean norm e (prior) "
        "| mean norm z | norm e_r | last-epoch disc. acc. real/fake, ref. real/fake | grids |",
        "|" + "---|" * 9,
    ]
    for r in rows:
        lines.append(
            f"| {r['name']} | {_f(r['ref_l1'])} | {_f(r['sampled_mass'])} | {_f(r['ref_mass'])} "
            f"| {_f(r['e_norm'], 1)} ({_f(r['e_prior'], 1)}) | {_f(r['z_norm'], 1)} | {_f(r['er_norm'], 2)} "
            f"| {r['disc_acc']} "
            + (
                f"| [generation]({r['grids']['generate']}), [transfer]({r['grids']['transfer']}) |"
                if r["grids"]
                else "| - (grids not kept) |"
                if reference_based(r["model"])
                else "| - (no e/z split) |"
            )
        )
    lines += seed_table(rows)
    lines += scale_table(rows)
    lines += padding_table(rows)
    commands = [command_line(r["name"]) for r in rows]
    table = "\n".join(lines) + "\n\nThe `cli.py fit` command of each run:\n\n" + "\n".join(commands) + "\n"
    page = docs / "ablations.md"
    text = page.read_text() if page.exists() else f"{TABLE_START}\n{TABLE_END}\n"
    head, _, rest = text.partition(TABLE_START)
    _, _, tail = rest.partition(TABLE_END)
    page.write_text(f"{head}{TABLE_START}\n{table}{TABLE_END}{tail}")
    (root / "ablations.json").write_text(
        json.dumps([{k: v for k, v in r.items() if k != "grids"} for r in rows], indent=1)
    )
    return rows


def main():
    parser = argparse.ArgumentParser(
        prog="python -m research.ablations", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("action", choices=["run", "report", "restore"])
    parser.add_argument("names", nargs="*", help="Runs to train and evaluate (default: all).")
    parser.add_argument("--root", default="runs/ablations", help="Folder of the runs.")
    parser.add_argument("--docs", default=str(DOCS), help="Where the report and grids go.")
    args = parser.parse_args()
    root = pathlib.Path(args.root).resolve()
    docs = pathlib.Path(args.docs)
    if args.action == "run":
        runner.run_named(
            parser,
            args.names,
            RUNS,
            lambda name, root: (runner.run(RUNS[name], RUNS, root), record(name, root, docs)),
            root,
        )
    elif args.action == "restore":
        runner.run_named(parser, args.names, RUNS, lambda name, root: restore(name, root, docs), root)
    else:
        for r in report(root, docs):
            print(
                f"{r['name']}: e {_f(r['e'])} z {_f(r['z'])} all {_f(r['all'])} "
                f"digit e/z/all {_f(r['digit_e'], 2)}/{_f(r['digit_z'], 2)}/{_f(r['digit_all'], 2)} "
                f"ref L1 {_f(r['ref_l1'])} ({r['minutes']:.1f} min)"
            )


if __name__ == "__main__":
    main()

"""The zoo: the seven presets at one recipe, the baselines' sweeps, REPORT.md and the cards.

    python -m research.ablations run l0-vae ...     # the presets' runs (zoo/manifest.json), one at a time
    python -m research.train_zoo publish            # those runs -> zoo/<model>-mnist-cpu/
    python -m research.train_zoo export             # the bundled ONNX export of zoo/srbvae-mnist-cpu/export
    python -m research.train_zoo report             # REPORT.md (Table 1 side by side) and the README's tables
    python -m research.train_zoo cards              # the seven cards (zoo/*/README.md), from the committed files
    python -m research.train_zoo tolerance          # |subset - card| of the card test, per preset and number
    python -m research.train_zoo tolerance rbvae    # the same for some models only
    python -m research.train_zoo run beta-vae-16    # one run of the sweeps (2,400 steps at 1e-4)

Every preset is one recipe: the cpu budget's images, width and batch (32 px, width 1/2, batch 36), its
learning rate 3e-4, 30 x 400 = 12,000 steps, training seed 0, so all seven models see the same images for
the same number of steps. Each is a run of research/experiments/ablations.toml (zoo/manifest.json names it;
records in docs/ablations/runs/NAME): the Rb-VAE and sRb-VAE configurations are the reference-branch
research's (rb02-betae10 and r10-lr3e4), the regularisation weights of beta-VAE, DIP-VAE-I and DIP-VAE-II the
best of the sweeps of research/experiments/sweeps.toml over {1, 4, 16, 50} (the paper tuned them in [1, 50]).
The sweeps trained at the former budget, 2,400 steps at the paper's 1e-4; their config, history, CPU and
metrics are in docs/zoo/runs/NAME.
"""

import argparse
import json
import pathlib
import shutil
import subprocess

from rbvae_tf.callbacks import read_history
from research import ablations, make_preset, records, runner, tolerance
from research import cards as card
from research.layout import ABLATION_RECORDS, REPO, SWEEP_RECORDS, ZOO, preset_runs
from research.report import seed_summary, write_report
from research.runs import EXPERIMENTS, load_runs

RUNS = load_runs(EXPERIMENTS / "sweeps.toml")
# Regularisation weight swept for each tuned baseline (the paper: "tuned in [1, 50]").
SWEEPS = {"beta-vae": "beta_kl", "dip-vae-i": "lambda_od", "dip-vae-ii": "lambda_od"}
SWEEP_VALUES = (1, 4, 16, 50)

# The presets -> the run of research/experiments/ablations.toml each publishes: the recipe at 12,000 steps, seed 0.
PRESET_RUNS = preset_runs()
# The reference-branch research's configuration (docs/ablations.md) that each reference-based preset trains.
RESEARCH_CONFIGURATIONS = {"rbvae": "rb02-betae10", "srbvae": "r10-lr3e4"}
BUNDLED_EXPORTS = ("srbvae",)  # presets that ship their ONNX export (zoo/<preset>/export), for the web page
RECORDS = SWEEP_RECORDS  # config, history, CPU and metrics of every sweep run (committed)
RESEARCH_RECORDS = ABLATION_RECORDS  # the same for the runs of research/experiments/ablations.toml


def record(name, root):
    """Copies a finished sweep run's config, history, CPU and metrics to docs/zoo/runs/NAME (committed)."""
    records.record(root / name, RECORDS / name, records.SWEEP_RECORD_FILES, source=f"runs/zoo/{name}")


def _metrics(run_dir):
    """A run's metrics.json: in its eval/ folder (a run) or beside its history (a docs/zoo/runs record)."""
    for path in (run_dir / "eval" / "metrics.json", run_dir / "metrics.json"):
        if path.exists():
            return json.loads(path.read_text())
    return None


def sweep_rows(root):
    """One dict per evaluated sweep run: model, weight name and value, probe MAE (all latents, mean),
    digit accuracy from all latents, training minutes and the CPU at the start."""
    rows = []
    for model, weight in SWEEPS.items():
        for value in SWEEP_VALUES:
            run_dir = root / f"{model}-{value}"
            metrics = _metrics(run_dir)
            if metrics is None:
                continue
            minutes = sum(float(r["seconds"]) for r in read_history(run_dir / "history.csv")) / 60
            cpu = json.loads((run_dir / "cpu.json").read_text())["start"]
            fit = json.loads((run_dir / "config.json").read_text())["fit"]
            rows.append(
                {
                    "steps": fit["epochs"] * fit["steps_per_epoch"],
                    "learning_rate": fit["learning_rate"],
                    "model": model,
                    "run": run_dir.name,
                    "weight": weight,
                    "value": value,
                    "all": metrics["probe"]["all"]["mae"]["mean"],
                    "factors": metrics["probe"]["all"]["mae"],
                    "digits": metrics["digit_accuracy"]["all"],
                    "minutes": minutes,
                    "load": cpu["loadavg"][0],
                    "cpu": f"{cpu['model_name']}, {'AVX-512' if cpu['avx512'] else 'no AVX-512'}",
                }
            )
    return rows


def best_of_sweep(rows, model):
    """The run of `model`'s sweep with the lowest all-latents probe MAE (the paper's selection)."""
    candidates = [r for r in rows if r["model"] == model]
    if len(candidates) < len(SWEEP_VALUES):
        raise SystemExit(f"the {model} sweep is not complete: {[r['run'] for r in candidates]}")
    return min(candidates, key=lambda r: r["all"])


def preset_sources(sweeps, research_root):
    """{model: (run folder, note for the card)} of the seven presets (`PRESET_RUNS` under `research_root`).
    `sweeps`: the rows of `sweep_rows`; a tuned baseline's preset must train the weight its sweep chose."""
    sources = {}
    for model, run in PRESET_RUNS.items():
        trained = f"`python -m research.ablations run {run}` (docs/ablations.md, record docs/ablations/runs/{run})"
        if model in SWEEPS:
            weight, best = SWEEPS[model], best_of_sweep(sweeps, model)
            if ablations.RUNS[run].model_args.get(weight) != best["value"]:
                raise SystemExit(f"{run} does not train {weight}={best['value']}, the best of the {model} sweep")
            tried = ", ".join(f"{r['value']}: {r['all']:.3f}" for r in sweeps if r["model"] == model)
            note = (
                f"**Weight chosen from a sweep.** `{weight}` = {best['value']} had the lowest all-latents probe "
                f"MAE of the zoo's sweep at 2,400 steps and learning rate 1e-4 ({tried}; REPORT.md, "
                f"`python -m research.train_zoo run {best['run']}`), the paper's way of tuning this weight in "
                f"[1, 50]; this preset trains it at the full recipe: {trained}."
            )
        elif model in RESEARCH_CONFIGURATIONS:
            note = (
                f"**From the reference-branch research**: the configuration of run "
                f"`{RESEARCH_CONFIGURATIONS[model]}` (docs/ablations.md), the one that came closest to its "
                f"targets, at the full recipe: {trained}."
            )
        else:
            note = f"Trained by {trained}."
        sources[model] = (research_root / run, note)
    return sources


def publish(research_root, zoo):
    """Writes zoo/<model>-mnist-cpu/ for the seven models from their runs (research/make_preset.py)."""
    seeds = preset_seeds()
    for model, (run_dir, note) in preset_sources(sweep_rows(RECORDS), research_root).items():
        make_preset.publish(
            run_dir,
            run_dir / "eval",
            zoo / f"{model}-mnist-cpu",
            note,
            f"runs/ablations/{run_dir.name}",
            seeds.get(model),
        )


def export(zoo, work):
    """The bundled exports: `python cli.py export PRESET --onnx` of each of BUNDLED_EXPORTS into `work`, its
    metadata.json and onnx/ copied to zoo/PRESET/export/, then the cards written again (they state the parity)."""
    for model in BUNDLED_EXPORTS:
        name, out = f"{model}-mnist-cpu", pathlib.Path(work) / f"{model}-mnist-cpu"
        shutil.rmtree(out, ignore_errors=True)
        subprocess.run(["python", "cli.py", "export", name, "--onnx", "--out-dir", str(out)], cwd=REPO, check=True)
        target = pathlib.Path(zoo) / name / "export"
        shutil.rmtree(target, ignore_errors=True)
        (target / "onnx").mkdir(parents=True)
        shutil.copyfile(out / "metadata.json", target / "metadata.json")
        for graph in sorted((out / "onnx").glob("*.onnx")):
            shutil.copyfile(graph, target / "onnx" / graph.name)
        print(f"wrote {target}")
    cards(zoo)


def _with_models(groups):
    """{label: run names} of the ablations -> {label: (model, run names)}, as `report.seed_summary` takes."""
    return {label: (ablations.RUNS[names[0]].model, names) for label, names in groups.items()}


def preset_seeds():
    """{model: its row of `seed_summary`} for the presets whose configuration was trained over seeds at the
    presets' recipe (`ablations.LONG_GROUPS` and `BASELINE_GROUPS`, seed 0 being the preset's own run), for
    the cards."""
    summary = seed_summary(RESEARCH_RECORDS, _with_models({**ablations.LONG_GROUPS, **ablations.BASELINE_GROUPS}))
    return {row["model"]: row for row in summary.values() if PRESET_RUNS[row["model"]] in row["names"]}


def seed_sections():
    """REPORT.md's sections over training seeds, from the runs' records (docs/ablations/runs): sRb-VAE, Rb-VAE
    and the best baseline at the presets' recipe (`ablations.LONG_GROUPS`, the README's headline), the
    baselines among themselves (`ablations.BASELINE_GROUPS`) and the first three at 2,400 steps
    (`ablations.SEED_GROUPS`, the reference-branch study's comparison)."""
    LONG_GROUPS, BASELINE_GROUPS, SEED_GROUPS = ablations.LONG_GROUPS, ablations.BASELINE_GROUPS, ablations.SEED_GROUPS
    return [
        (
            "Training seeds at the presets' recipe: 12,000 steps",
            "sRb-VAE, Rb-VAE and the best baseline at the "
            "presets' recipe (learning rate 3e-4, 30 x 400 = 12,000 steps; docs/ablations.md, runs l0-*, l1-*, "
            "l2-*): mean [min-max] over training seeds 0, 1, 2 (seed 0 is the preset). An ordering holds only "
            "where the gap exceeds both ranges.",
            seed_summary(RESEARCH_RECORDS, _with_models(LONG_GROUPS)),
        ),
        (
            "The baselines over training seeds: 12,000 steps",
            "The baselines' presets at the same recipe and "
            "seeds (docs/ablations.md, runs l0-*, l1-*, l2-*; sVAE has seed 0 only): mean [min-max], and their "
            "order among themselves.",
            seed_summary(RESEARCH_RECORDS, _with_models(BASELINE_GROUPS)),
        ),
        (
            "Training seeds at 2,400 steps",
            "The same three configurations at a fifth of the budget (learning "
            "rate 3e-4, 6 x 400 = 2,400 steps; docs/ablations.md): mean [min-max] over training seeds 0, 1, 2.",
            seed_summary(RESEARCH_RECORDS, _with_models(SEED_GROUPS)),
        ),
    ]


def cards(zoo):
    """Rewrites the seven cards from committed files only: each preset's own files and its run record
    (docs/zoo/runs, docs/ablations/runs) for the CPU; no model is loaded, nothing is trained."""
    seeds = preset_seeds()
    for model, (record, note) in preset_sources(sweep_rows(RECORDS), RESEARCH_RECORDS).items():
        card.write_card(pathlib.Path(zoo) / f"{model}-mnist-cpu", record, note, seeds.get(model))
        print(f"wrote {pathlib.Path(zoo) / f'{model}-mnist-cpu' / 'README.md'}")


def main():
    parser = argparse.ArgumentParser(
        prog="python -m research.train_zoo", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("action", choices=["run", "publish", "export", "report", "cards", "tolerance"])
    parser.add_argument("names", nargs="*", help="Runs to train and evaluate (default: all).")
    parser.add_argument("--root", default="runs/zoo", help="Folder of the runs.")
    parser.add_argument(
        "--research-root",
        default="runs/ablations",
        help="Folder of the presets' runs (`python -m research.ablations --root`).",
    )
    parser.add_argument("--work", default="exports", help="Where `export` writes the full exports first.")
    parser.add_argument("--zoo", default=str(ZOO), help="Where the presets go.")
    args = parser.parse_args()
    root = pathlib.Path(args.root).resolve()
    if args.action == "run":
        runner.run_named(
            parser, args.names, RUNS, lambda name, root: (runner.run(RUNS[name], RUNS, root), record(name, root)), root
        )
    elif args.action == "publish":
        publish(pathlib.Path(args.research_root).resolve(), pathlib.Path(args.zoo))
    elif args.action == "export":
        export(pathlib.Path(args.zoo), pathlib.Path(args.work))
    elif args.action == "cards":
        cards(args.zoo)
    elif args.action == "tolerance":
        tolerance.measure((500, 1000, 2000), args.names or None)  # names: models, e.g. `tolerance rbvae srbvae`
    else:
        write_report(
            pathlib.Path(args.zoo), sweep_rows(RECORDS), REPO / "REPORT.md", REPO / "README.md", seeds=seed_sections()
        )


if __name__ == "__main__":
    main()

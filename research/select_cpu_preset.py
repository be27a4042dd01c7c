"""Picks the `cpu` preset: trains each candidate sRb-VAE for about 30 minutes, evaluates it, and writes
the comparison the preset is chosen from.

    python -m research.select_cpu_preset       # ~1 hour on the 2-core machine, one run after the other

Candidates: 32 px at width 1/4 and 1/2, steps chosen from `python cli.py bench train` so
that each trains for 24-29 minutes (width 1/2 twice: 2400 and 2700 steps). Every step is a plain `cli.py`
command, printed before it runs; a finished run or evaluation is reused, an interrupted run resumes. Writes
`docs/archive/cpu-preset-selection.md` and `.json` (the choice of the `cpu` budget's width and steps, kept
in the archive): training time (sum of the epochs' `seconds` in
history.csv, i.e. without start-up and saving), Table-1 probe MAE on e, z and all latents, and the
digit-classification accuracy of e and z (lower on e, higher on z is the intended split).
"""

import json
import pathlib
import shlex
import subprocess
import sys

from rbvae_tf.callbacks import read_history
from rbvae_tf.models import MODELS
from rbvae_tf.training import is_finished
from research.layout import REPO as ROOT

DISCRIMINATOR_ACCURACIES = [name for name in MODELS["srbvae"][0].metric_names if "_acc_" in name]

CANDIDATES = {  # run name: extra `cli.py fit` options on top of `--preset cpu` (6 epochs, 32 px, batch 36)
    "w025": ["--width", "0.25", "--steps-per-epoch", "1000"],
    "w05": ["--width", "0.5", "--steps-per-epoch", "400"],
    "w05-450": ["--width", "0.5", "--steps-per-epoch", "450"],  # the most width 1/2 steps that fit in 30 min
}


def run(args):
    print("$", shlex.join(args), flush=True)
    subprocess.run(args, cwd=ROOT, check=True)


def summarise(run_dir, eval_dir):
    history = read_history(run_dir / "history.csv")
    fit = json.loads((run_dir / "config.json").read_text())["fit"]
    metrics = json.loads((eval_dir / "metrics.json").read_text())
    seconds = sum(float(row["seconds"]) for row in history)
    steps = fit["epochs"] * fit["steps_per_epoch"]
    last = history[-1]
    return {
        "width": fit["width"],
        "image_size": fit["image_size"],
        "steps": steps,
        "training_seconds": round(seconds),
        "seconds_per_step": round(seconds / steps, 3),
        "probe_mae": {k: round(v["mae"]["mean"], 4) for k, v in metrics["probe"].items()},
        "digit_accuracy": {k: round(v, 3) for k, v in metrics["digit_accuracy"].items()},
        "final_discriminator_acc": {k: round(float(last[k]), 3) for k in DISCRIMINATOR_ACCURACIES},
    }


def main(runs=ROOT / "runs", evals=ROOT / "eval", out=ROOT / "docs" / "archive"):
    """Trains and evaluates what is missing, writes `out`/cpu-preset-selection.{md,json}, returns the best."""
    runs, evals, out = map(pathlib.Path, (runs, evals, out))
    results = {}
    for name, options in CANDIDATES.items():
        run_dir, eval_dir = runs / name, evals / name
        if not is_finished(run_dir):
            run([sys.executable, "cli.py", "fit", "--budget", "cpu", *options, "--out-dir", str(run_dir)])
        if not (eval_dir / "metrics.json").exists():
            run([sys.executable, "cli.py", "evaluate", str(run_dir), "--out-dir", str(eval_dir)])
        results[name] = summarise(run_dir, eval_dir)
    # the best e-probe to 3 decimals (differences below that are noise of the probe); ties go to the faster run
    best = min(results, key=lambda n: (round(results[n]["probe_mae"]["e"], 3), results[n]["training_seconds"]))
    lines = [
        "# Choosing the `cpu` preset",
        "",
        "`python -m research.select_cpu_preset` (sRb-VAE, 32 px, batch 36, no XLA, 6 epochs, seed 0; one run",
        "after the other on the 2-core machine). Probe: mean absolute error of linear regressors predicting",
        "colour, scale and width (Table 1; lower is better). Digit acc: mean per-class accuracy of a logistic",
        "regression on the latents (a good split has it low on e and high on z).",
        "",
        "| run | width | steps | training min | s/step | MAE e | MAE z | MAE all | constant | digit acc e "
        "| digit acc z |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, r in results.items():
        p, d = r["probe_mae"], r["digit_accuracy"]
        lines.append(
            f"| {name} | {r['width']} | {r['steps']} | {r['training_seconds'] / 60:.1f} | "
            f"{r['seconds_per_step']} | {p['e']:.3f} | {p['z']:.3f} | {p['all']:.3f} | "
            f"{p['constant']:.3f} | {d['e']:.3f} | {d['z']:.3f} |"
        )
    lines += [
        "",
        f"Best e-probe (to 3 decimals; ties go to the shorter run): **{best}** "
        f"(width {results[best]['width']}, {results[best]['steps']} steps).",
        "",
    ]
    (out / "cpu-preset-selection.md").write_text("\n".join(lines))
    (out / "cpu-preset-selection.json").write_text(json.dumps({"best": best, "results": results}, indent=2) + "\n")
    print("\n".join(lines))
    return best


if __name__ == "__main__":
    main()

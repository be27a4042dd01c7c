"""The zoo of issue 10: the seven models at one data budget, the baselines' sweeps, presets and REPORT.md.

    python zoo/train_zoo.py run                 # train + evaluate every run below (skips what is done)
    python zoo/train_zoo.py run beta-vae-16     # one run
    python zoo/train_zoo.py publish             # the best of each sweep -> zoo/<model>-mnist-cpu/
    python zoo/train_zoo.py report              # REPORT.md (Table 1 side by side) and docs/zoo/*

Every run is the cpu preset's budget (32 px, width 1/2, batch 36, 6 x 400 = 2,400 steps, seed 0), the
one the bundled sRb-VAE preset trained with, so all seven models see the same images for the same
number of steps. The Rb-VAE and sRb-VAE presets are the runs the reference-branch research chose
(docs/ablations.md: rb02-betae10 and r07-er100, trained by `python zoo/ablations.py run NAME`); this
script trains the five baselines and the sweeps of beta-VAE, DIP-VAE-I and DIP-VAE-II over their
regularisation weight ({1, 4, 16, 50}, the paper tuned them in [1, 50]). Each run records the CPU it
trained on (`cpu.json`); its config, history, CPU and metrics are copied to docs/zoo/runs/NAME.
"""

import argparse
import json
import pathlib
import shutil
import subprocess
import sys
import time

REPO = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from zoo.ablations import cpu_info  # noqa: E402

# Regularisation weight swept for each tuned baseline (the paper: "tuned in [1, 50]").
SWEEPS = {"beta-vae": "beta_kl", "dip-vae-i": "lambda_od", "dip-vae-ii": "lambda_od"}
SWEEP_VALUES = (1, 4, 16, 50)

# name -> (model, extra `cli.py fit` arguments)
RUNS = {"vae": ("vae", [])}
for _model, _arg in SWEEPS.items():
    for _value in SWEEP_VALUES:
        RUNS[f"{_model}-{_value}"] = (_model, ["--model-arg", f"{_arg}={_value}"])
RUNS["svae"] = ("svae", [])

# Presets trained elsewhere (the reference-branch research) -> the run they publish.
RESEARCH_RUNS = {"rbvae": "rb02-betae10", "srbvae": "r07-er100"}
MODELS = ("vae", "beta-vae", "dip-vae-i", "dip-vae-ii", "svae", "rbvae", "srbvae")


def fit_command(name, root):
    model, args = RUNS[name]
    return ["python", "cli.py", "fit", "--model", model, "--preset", "cpu", *args, "--out", str(root / name)]


def run(name, root):
    """Trains (unless finished) and evaluates one run."""
    run_dir = root / name
    status = run_dir / "status.json"
    if not (status.exists() and json.loads(status.read_text()).get("finished")):
        run_dir.mkdir(parents=True, exist_ok=True)
        start, began = cpu_info(), time.time()
        subprocess.run(fit_command(name, root), cwd=REPO, check=True)
        (run_dir / "cpu.json").write_text(json.dumps(
            {"start": start, "end": cpu_info(), "wall_seconds": round(time.time() - began, 1)}, indent=1))
    if not (run_dir / "eval" / "metrics.json").exists():
        subprocess.run(["python", "cli.py", "evaluate", str(run_dir), "--out", str(run_dir / "eval")],
                       cwd=REPO, check=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("action", choices=["run"])
    parser.add_argument("names", nargs="*", help="Runs to train and evaluate (default: all).")
    parser.add_argument("--root", default="runs/zoo", help="Folder of the runs.")
    args = parser.parse_args()
    root = pathlib.Path(args.root).resolve()
    for name in args.names or list(RUNS):
        if name not in RUNS:
            parser.error(f"unknown run {name!r}; choose from {', '.join(RUNS)}")
        run(name, root)


if __name__ == "__main__":
    main()

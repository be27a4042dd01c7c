"""Trains, evaluates and draws one research run, one plain `cli.py` command at a time.

A finished run is never trained again and a finished evaluation is reused, so `run` continues where an
interrupted study stopped; `fit` itself resumes mid-epoch (`--backup-every`).
"""

import json
import subprocess
import time

from rbvae_tf.models import REMOVED_ARGUMENTS, removed_argument_error
from rbvae_tf.training import is_finished
from research.layout import REPO
from research.records import cpu_info
from research.runs import fit_command
from research.tables import reference_based

BACKUP_EVERY = 200  # steps: a killed run resumes mid-epoch with the same command (exact, tests/test_crash_safety.py)
CLI = ["python", "cli.py"]


def run(run, runs, root):
    """Trains `run` of the study `runs` into ROOT/NAME (unless finished), writes its cpu.json, evaluates it
    into ROOT/NAME/eval and, for a reference-based model, draws its generation and transfer grids."""
    run_dir = root / run.name
    if not is_finished(run_dir):
        refuse_removed_arguments(run)
        if run.trained_before:
            raise SystemExit(
                f"{run.name} was trained by an earlier version of the code ({run.trained_before}): "
                "restore its record (`restore`) instead of training it"
            )
        run_dir.mkdir(parents=True, exist_ok=True)
        start, began = cpu_info(), time.time()
        subprocess.run([*fit_command(run, runs, root), "--backup-every", str(BACKUP_EVERY)], cwd=REPO, check=True)
        (run_dir / "cpu.json").write_text(
            json.dumps({"start": start, "end": cpu_info(), "wall_seconds": round(time.time() - began, 1)}, indent=1)
        )
    if not (run_dir / "eval" / "metrics.json").exists():
        subprocess.run([*CLI, "evaluate", str(run_dir), "--out-dir", str(run_dir / "eval")], cwd=REPO, check=True)
    if not reference_based(run.model):
        return  # the baselines have no e/z split to generate from or transfer (their samples are in samples/)
    for kind, extra in (("generate", []), ("transfer", ["--grid", "6"])):
        if not (run_dir / f"{kind}.png").exists():
            subprocess.run(
                [*CLI, kind, str(run_dir), *extra, "--out", str(run_dir / f"{kind}.png")], cwd=REPO, check=True
            )


def refuse_removed_arguments(run):
    """SystemExit with one line when `run` sets a model argument that was removed (its record stays in
    docs/ablations.md; `restore` brings it back)."""
    for key, value in run.config.model_args.items():
        if key in REMOVED_ARGUMENTS:
            error = removed_argument_error(key, value)
            raise SystemExit(f"{run.name} cannot be trained again: {error}; `restore` brings back its record")


def run_named(parser, names, runs, run_one, root):
    """`run_one(name, root)` for each of `names` (default: every run of `runs`), one at a time; an
    unknown name is a usage error of `parser`."""
    for name in names or list(runs):
        if name not in runs:
            parser.error(f"unknown run {name!r}; choose from {', '.join(runs)}")
    for name in names or list(runs):
        run_one(name, root)

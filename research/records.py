"""The committed records of the runs: what a finished run leaves in docs/ (config, history, CPU, metrics) and
how a fresh checkout gets the runs back from them without training.

`record` copies a run's files into its record folder; `restore` is its inverse (plus the grids), so that the
reports run in a fresh checkout. The grids of a run published as a preset are the preset's own files
(`committed_grid`), stored once.
"""

import json
import os
import pathlib
import platform
import shutil

from research.layout import ZOO, preset_runs

# The files of a run that its record keeps (the ablations' records: docs/ablations/runs/NAME).
RECORD_FILES = ("config.json", "history.csv", "cpu.json", "eval/metrics.json", "eval/metrics.md")
# The same for the zoo's sweeps (docs/zoo/runs/NAME), written without the machine's paths (`portable`).
SWEEP_RECORD_FILES = ("config.json", "history.csv", "cpu.json", "eval/metrics.json")


def cpu_info():
    """Model name, AVX-512 or not, and the load average: recorded beside every timing."""
    name, avx512 = platform.processor(), False
    try:
        text = pathlib.Path("/proc/cpuinfo").read_text()
        name = next(line.split(":", 1)[1].strip() for line in text.splitlines() if line.startswith("model name"))
        avx512 = "avx512f" in text
    except (OSError, StopIteration):
        pass
    return {"model_name": name, "avx512": avx512, "cores": os.cpu_count(), "loadavg": os.getloadavg()}


def portable(text, run_dir, source):
    """`text` without this machine's paths: the run folder as `source`, the home folder as `~`."""
    text = text.replace(str(run_dir.resolve()), source).replace(str(run_dir), source)
    return text.replace(str(pathlib.Path.home()), "~")


def record(run_dir, target, files=RECORD_FILES, source=None):
    """Copies the `files` of finished run `run_dir` that exist into the record folder `target` (flat). With
    `source`, the text is written `portable` (the run folder named `source`), else copied byte for byte."""
    target = pathlib.Path(target)
    target.mkdir(parents=True, exist_ok=True)
    for file in files:
        path = pathlib.Path(run_dir) / file
        if source is not None:
            (target / path.name).write_text(portable(path.read_text(), pathlib.Path(run_dir), source))
        elif path.exists():
            shutil.copyfile(path, target / path.name)


def committed_grid(docs, name, kind, zoo=ZOO):
    """The committed file of run `name`'s `kind` grid: its copy docs/ablations/NAME-KIND.png, or, for a run
    published as a zoo preset, the preset's own file (which the ablations page links instead of storing it twice)."""
    copy = pathlib.Path(docs) / "ablations" / f"{name}-{kind}.png"
    if copy.exists():
        return copy
    published = [
        pathlib.Path(zoo) / f"{model}-mnist-cpu" / f"{kind}.png" for model, run in preset_runs().items() if run == name
    ]
    if not published or not published[0].exists():
        raise FileNotFoundError(f"no committed {kind} grid of {name}: {copy}")
    return published[0]


def restore(name, root, docs, grids):
    """The inverse of `record` plus the grids (`grids`: whether the run draws them), so that the ablations
    page regenerates in a fresh checkout without retraining. A run already evaluated under `root` is kept."""
    source, run_dir = pathlib.Path(docs) / "ablations" / "runs" / name, pathlib.Path(root) / name
    if not (source / "metrics.json").exists() or (run_dir / "eval" / "metrics.json").exists():
        return
    (run_dir / "eval").mkdir(parents=True, exist_ok=True)
    for file in RECORD_FILES:
        if (source / pathlib.Path(file).name).exists():
            shutil.copyfile(source / pathlib.Path(file).name, run_dir / file)
    for kind in ("generate", "transfer") if grids else ():
        try:
            shutil.copyfile(committed_grid(docs, name, kind), run_dir / f"{kind}.png")
        except FileNotFoundError:  # a run whose grids were not kept: the page shows its numbers only
            continue
    epochs = json.loads((run_dir / "config.json").read_text())["fit"]["epochs"]
    (run_dir / "status.json").write_text(json.dumps({"epochs_completed": epochs, "finished": True}))

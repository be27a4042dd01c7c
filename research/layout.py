"""Where the research reads and writes: the repository, the zoo and its manifest, the committed records."""

import json
import pathlib

REPO = pathlib.Path(__file__).resolve().parents[1]
ZOO = REPO / "zoo"
DOCS = REPO / "docs"
ABLATION_RECORDS = DOCS / "ablations" / "runs"  # config, history, CPU and metrics of every ablation run (committed)
SWEEP_RECORDS = DOCS / "zoo" / "runs"  # the same for the runs of the zoo's sweeps


def preset_runs(zoo=ZOO):
    """{model: run} of the presets: the run of research/experiments/ablations.toml that each preset was
    published from (zoo/manifest.json)."""
    presets = json.loads((pathlib.Path(zoo) / "manifest.json").read_text())["presets"]
    return {entry["model"]: entry["run"] for entry in presets.values()}

"""zoo/ is data: its manifest lists every preset, the bundled data and the readers, and nothing else is there
(no code: the scripts that train and publish the presets are research/)."""

import json

from research.runs import EXPERIMENTS, load_runs
from tests.conftest import REPO

ZOO = REPO / "zoo"
MANIFEST = json.loads((ZOO / "manifest.json").read_text())


def test_the_zoo_holds_only_the_manifest_and_what_it_lists():
    listed = {"manifest.json", "data", "readers", *MANIFEST["presets"]}
    present = {path.name for path in ZOO.iterdir() if path.name != "__pycache__"}
    assert present == listed
    listed_files = {*MANIFEST["data"], *MANIFEST["readers"]}
    assert {str(p.relative_to(ZOO)) for p in (ZOO / "data").glob("*.npz")} | {
        str(p.relative_to(ZOO)) for p in (ZOO / "readers").iterdir()
    } == listed_files
    assert all((ZOO / name).exists() for name in listed_files)
    assert [p for p in ZOO.rglob("*.py")] == []


def test_each_preset_names_its_model_and_the_run_it_was_published_from():
    research = load_runs(EXPERIMENTS / "ablations.toml")
    for name, entry in MANIFEST["presets"].items():
        fit = json.loads((ZOO / name / "config.json").read_text())["fit"]
        metrics = json.loads((ZOO / name / "metrics.json").read_text())
        assert fit["model"] == entry["model"] and name == f"{entry['model']}-mnist-cpu", name
        assert metrics["model"]["path"] == f"runs/ablations/{entry['run']}", name
        assert research[entry["run"]].model == entry["model"], name
        assert (REPO / "docs" / "ablations" / "runs" / entry["run"] / "config.json").exists(), name

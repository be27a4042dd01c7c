"""research/runner.py: a run that sets a removed model argument fails at once with one line, trains nothing."""

import pytest

from rbvae_tf.models import REMOVED_ARGUMENTS
from research import ablations, runner
from research.layout import ABLATION_RECORDS

# run -> its removed arguments, in the order the runner checks them (the first one is refused)
REMOVED_KEYS = {
    name: [key for key in run.config.model_args if key in REMOVED_ARGUMENTS] for name, run in ablations.RUNS.items()
}
REMOVED_RUNS = {name: keys[0] for name, keys in REMOVED_KEYS.items() if keys}


def test_the_study_keeps_the_runs_of_every_removed_argument():
    assert {key for keys in REMOVED_KEYS.values() for key in keys} == set(REMOVED_ARGUMENTS)
    page = (ablations.DOCS / "ablations.md").read_text()
    recorded = [name for name in REMOVED_RUNS if (ABLATION_RECORDS / name).exists()]
    assert len(recorded) >= len(REMOVED_ARGUMENTS)
    for name in recorded:  # their records and commands stay in docs/ablations.md
        assert f"\n| {name} | " in page and ablations.command_line(name) in page, name


@pytest.mark.parametrize("name", sorted(REMOVED_RUNS))
def test_training_a_run_of_a_removed_argument_again_fails_with_one_line(name, tmp_path, monkeypatch):
    def no_training(*args, **kwargs):
        raise AssertionError("a command ran")

    monkeypatch.setattr(runner.subprocess, "run", no_training)
    with pytest.raises(SystemExit) as stop:
        runner.run(ablations.RUNS[name], ablations.RUNS, tmp_path)
    message = str(stop.value)
    assert "\n" not in message
    assert f"{name} cannot be trained again: model argument {REMOVED_RUNS[name]}=" in message
    assert "was removed; see docs/ablations.md" in message
    assert not (tmp_path / name).exists()

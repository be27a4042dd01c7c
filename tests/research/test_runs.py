"""research/runs.py: the studies of research/experiments/*.toml are typed data, and the `cli.py fit` command of
each run trains exactly its configuration, the one its committed record says it trained."""

import dataclasses
import json
import re

import pytest
from click.testing import CliRunner

import cli
from rbvae_tf.config import FitConfig
from rbvae_tf.models import argument_defaults
from research import ablations, runs, train_zoo
from research.layout import ABLATION_RECORDS, DOCS, SWEEP_RECORDS

STUDIES = {"ablations": (ablations.RUNS, ABLATION_RECORDS), "sweeps": (train_zoo.RUNS, SWEEP_RECORDS)}
ALL_RUNS = [(study, name) for study, (table, _) in STUDIES.items() for name in table]


def test_the_page_prints_the_command_of_every_evaluated_run():
    """docs/ablations.md's command lines are the TOML runs' commands, word for word (argument order too)."""
    page = (DOCS / "ablations.md").read_text()
    printed = {m.group(1): m.group(0) for m in re.finditer(r"^- `([^`]+)`: .*$", page, re.MULTILINE)}
    assert len(printed) >= 40 and set(printed) <= set(ablations.RUNS)
    for name, line in printed.items():
        assert line == ablations.command_line(name), name
    assert printed["r15-r1"].endswith(  # a model argument after the learning rate: the parent's order, then the change
        "--lr 3e-4 --model-arg weight_r1=10 --out-dir runs/ablations/r15-r1`"
    )


@pytest.fixture(scope="module")
def parsed_by_the_cli():
    """{(study, name): the FitConfig that `cli.py fit` builds from the run's command} (training replaced)."""
    import rbvae_tf.training

    configs = {}

    def fake_fit(config, out=None, backup_every=None, progress=None):
        configs["last"] = config
        raise KeyboardInterrupt  # the command stops here: nothing trains

    cli.load_library()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(rbvae_tf.training, "fit", fake_fit)
        for study, name in ALL_RUNS:
            table = STUDIES[study][0]
            words = runs.fit_command(table[name], table, "runs/x")
            assert words[:3] == ["python", "cli.py", "fit"]
            result = CliRunner().invoke(cli.cli, words[2:])
            assert result.exit_code == 130, result.output
            configs[(study, name)] = configs.pop("last")
    return configs


@pytest.mark.parametrize("study, name", ALL_RUNS)
def test_the_command_trains_the_runs_config(study, name, parsed_by_the_cli):
    assert parsed_by_the_cli[(study, name)] == STUDIES[study][0][name].config


def _effective(fit):
    """A config.json "fit" with the fields added since it was written at their defaults, and its model arguments
    completed with the model's defaults (a record of an earlier budget names fewer of them)."""
    defaults = {f.name: f.default for f in dataclasses.fields(FitConfig) if f.default is not dataclasses.MISSING}
    fit = {**defaults, **fit}
    return {**fit, "model_args": {**argument_defaults(fit["model"]), **fit["model_args"]}}


@pytest.mark.parametrize("study, name", ALL_RUNS)
def test_the_run_is_the_configuration_its_record_trained(study, name):
    table, records = STUDIES[study]
    run, record = table[name], records / name / "config.json"
    if not record.exists() or run.trained_before:
        pytest.skip("no record, or trained by an earlier version of the code (its record predates reference_width)")
    recorded = _effective(json.loads(record.read_text())["fit"])
    assert _effective(json.loads(run.config.to_json())) == recorded


def test_the_defaults_pin_the_papers_values_of_the_arguments_the_budget_sets():
    for model, pinned in (("srbvae", ("weight_reference_target", "weight_z_invariance")), ("rbvae", ("beta_e",))):
        run = next(r for r in ablations.RUNS.values() if r.model == model and not r.model_args)
        assert sorted(run.defaults["model_args"]) == sorted(pinned)
        for key, value in run.defaults["model_args"].items():
            assert value == argument_defaults(model)[key], (model, key)


def test_values_are_written_as_the_cli_reads_them_back():
    for value in (3e-4, 1e-4, 3e-5, 0.1, 0.0, 1.0, 10000, 0, True, False, 1e6, 2.5e-7):
        assert json.loads(runs.value_text(value)) == value and type(json.loads(runs.value_text(value))) is type(value)
    assert [runs.value_text(v) for v in (3e-4, 0.1, 0.0, 10000, True)] == ["3e-4", "0.1", "0.0", "10000", "true"]
    assert runs.options(
        [("padding", "corner"), ("jit", False), ("lr_schedule", "cosine"), (("model_args", "mode"), "input")]
    ) == [
        "--padding",
        "corner",
        "--no-jit",
        "--lr-schedule",
        "cosine",
        "--model-arg",
        "mode=input",
    ]


def test_a_new_setting_goes_after_the_parents_and_the_seed_last(tmp_path):
    study = tmp_path / "study.toml"
    study.write_text(
        "[defaults]\nfit = { learning_rate = 1e-4 }\n"
        '[runs.a]\nmodel = "vae"\nchange = "a"\nfit = { seed = 1, epochs = 3, reference_width = 3 }\n'
        '[runs.b]\nmodel = "vae"\nparent = "a"\nchange = "b"\n'
        "fit = { reference_width = 3, learning_rate = 3e-4, seed = 2, epochs = 3 }\n"
        "model_args = { beta = 2 }\n"
    )
    table = runs.load_runs(study)
    assert runs.options(runs.arguments(table["a"], table)) == [
        "--reference-width",
        "3",
        "--epochs",
        "3",
        "--seed",
        "1",
        "--lr",
        "1e-4",
    ]  # the defaults it lacks last
    assert runs.options(runs.arguments(table["b"], table)) == [
        "--reference-width",
        "3",
        "--epochs",
        "3",
        "--model-arg",
        "beta=2",
        "--lr",
        "3e-4",
        "--seed",
        "2",
    ]


@pytest.mark.parametrize(
    "text, message",
    [
        ('[runs.a]\nmodel = "vae"\nchange = "a"\nfits = {}\n', "unknown keys"),
        ('[runs.a]\nmodel = "vae"\nchange = "a"\nfit = { lr = 1e-4 }\n', "not FitConfig fields"),
        ('[runs.a]\nmodel = "vae"\nchange = "a"\nparent = "z"\n', "unknown parent"),
        ('[runs.a]\nmodel = "vae"\nchange = "a"\nbudget = "huge"\n', "unknown preset"),
    ],
)
def test_a_study_with_a_mistake_is_refused(tmp_path, text, message):
    (tmp_path / "study.toml").write_text(text)
    with pytest.raises(ValueError, match=message):
        runs.load_runs(tmp_path / "study.toml")


def test_the_modules_example_runs():
    import doctest

    result = doctest.testmod(runs, optionflags=doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS)
    assert result.attempted and not result.failed

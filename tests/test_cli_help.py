"""The command line answers fast and explains itself (issue 21, item 3).

- `--help` (of every command) and `--version` import neither TensorFlow nor rbvae_tf;
- `--version` prints the package version, which is pyproject's;
- the top-level help shows each command's whole description, every option has a help text that
  ends with an example of it, and the names the options offer are the library's;
- the former option names are hidden, still work, and print one `note:` line.
"""

import json
import os
import subprocess
import sys
import tomllib

import click
import pytest
from click.testing import CliRunner

import cli
from tests.conftest import REPO

COMMANDS = [["fit"], ["evaluate"], ["generate"], ["transfer"], ["export"], ["zoo"], ["data"], ["data", "mnist-style"],
            ["bench"], ["bench", "train"], ["bench", "infer"]]
PROBE = """
import json, runpy, sys
outputs = []
for args in json.loads(sys.argv[1]):
    sys.argv = ["cli.py", *args]
    try:
        runpy.run_path("cli.py", run_name="__main__")
    except SystemExit as exit:
        outputs.append(exit.code)
heavy = sorted(name for name in sys.modules if name.split(".")[0] in ("tensorflow", "keras", "rbvae_tf"))
print(json.dumps({"status": outputs, "heavy": heavy}), file=sys.stderr)
"""


def visible_commands(group=cli.cli, path=()):
    yield path, group
    if isinstance(group, click.Group):
        for name, command in sorted(group.commands.items()):
            if not command.hidden:
                yield from visible_commands(command, (*path, name))


def probe(calls):
    done = subprocess.run([sys.executable, "-c", PROBE, json.dumps(calls)], cwd=REPO, capture_output=True, text=True,
                          timeout=120, env={**os.environ, "COLUMNS": "80"})
    return done.stdout, json.loads(done.stderr.strip().splitlines()[-1])


def test_help_and_version_import_no_tensorflow():
    stdout, report = probe([["--help"], ["--version"], *[[*path, "--help"] for path in COMMANDS]])
    assert report == {"status": [0] * (2 + len(COMMANDS)), "heavy": []}
    assert stdout.count("Usage: cli.py") == 1 + len(COMMANDS)


def test_version_is_the_package_version_and_pyproject_version():
    import rbvae_tf

    result = CliRunner().invoke(cli.cli, ["--version"])
    version = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["version"]
    assert result.exit_code == 0 and result.output == f"rbvae_tf {version}\n"
    assert cli.package_version() == rbvae_tf.__version__ == version


def test_top_level_help_shows_each_whole_description_at_80_columns():
    stdout, _ = probe([["--help"]])
    listed = dict(line.split(None, 1) for line in stdout.split("Commands:\n")[1].splitlines() if line.strip())
    assert listed == {name: command.short_help for name, command in cli.cli.commands.items()}
    assert not any(text.endswith("...") for text in listed.values())
    data_help, _ = probe([["data", "--help"]])
    assert "mnist-style  Build the MNIST-style data set (paper Sec. 5.1)." in data_help


@pytest.mark.parametrize("path, command", [(" ".join(p), c) for p, c in visible_commands() if p],
                         ids=lambda value: value if isinstance(value, str) else "")
def test_every_option_has_help_with_an_example_of_itself(path, command):
    assert command.short_help and len(command.short_help) <= 60, path  # whole at 80 columns
    if isinstance(command, click.Group):
        return
    assert "Example:" in command.help and f"python cli.py {path}" in command.help, path
    for option in [p for p in command.params if isinstance(p, click.Option) and not p.hidden]:
        names = option.opts + option.secondary_opts
        assert option.help and len(option.help.split(" E.g. ")[0]) > 10, (path, names)
        example = option.help.rsplit(" E.g. ", 1)[1]
        assert example.split()[0] in names, (path, names, example)


def test_the_offered_names_are_the_librarys():
    from rbvae_tf.config import LR_SCHEDULES, PRESETS
    from rbvae_tf.models import MODELS
    from rbvae_tf.progress import MODES

    assert cli.MODEL_NAMES == tuple(MODELS)
    assert cli.BUDGETS == tuple(PRESETS)
    assert cli.PROGRESS_MODES == MODES
    assert cli.LR_SCHEDULE_NAMES == LR_SCHEDULES


def test_one_name_per_idea_across_commands():
    """The same idea has the same option name everywhere, and `--out` is always a file, `--out-dir` a folder."""
    options = {(" ".join(path), name): option for path, command in visible_commands()
               for option in getattr(command, "params", []) if isinstance(option, click.Option) and not option.hidden
               for name in option.opts}
    names = {name for _, name in options}
    assert not names & {"--size", "--batch", "--steps", "--preset", "--seed-data", "--output"}
    for (path, name), option in options.items():
        if name == "--out":
            assert isinstance(option.type, click.Path) and not option.type.dir_okay, path
        if name == "--out-dir":
            assert isinstance(option.type, click.Path) and not option.type.file_okay, path
    assert {path for path, name in options if name == "--image-size"} == {"bench infer", "bench train",
                                                                          "data mnist-style", "fit"}
    assert {path for path, name in options if name == "--data-seed"} == {"data mnist-style", "evaluate", "fit",
                                                                         "generate", "transfer"}


# --- the former names ----------------------------------------------------------------------------


@pytest.fixture
def captured(monkeypatch, tmp_path):
    """Replaces the library calls of fit, evaluate, export and the benchmarks by recorders."""
    import export
    import rbvae_tf.benchmarks
    import rbvae_tf.evaluation
    import rbvae_tf.loading
    import rbvae_tf.training

    calls = {}

    def fake_fit(config, out=None, backup_every=None, progress=None):
        calls["fit"] = {"budget": config.preset, "out": out, "progress": progress}
        run = tmp_path / "run"
        run.mkdir(exist_ok=True)
        (run / "status.json").write_text(json.dumps({"finished": True, "epochs_completed": 1}))
        return run

    def fake_evaluate(net, out_dir, *args, **kwargs):
        calls["evaluate"] = {"out": out_dir}
        return {"seconds": 0.0}

    def fake_export(net, info, out_dir, onnx, opset):
        calls["export"] = {"out": out_dir}
        return {"signatures": [], "files": {"onnx": []}, "parity": {"x": 0.0}}

    def fake_speed(model, budget, sizes, widths, repeats, jits, warmup, log):
        calls["bench train"] = {"budget": budget, "repeats": repeats}
        return []

    def fake_infer(net, info, sizes, repeats, warmup, **kwargs):
        calls["bench infer"] = {"sizes": sizes, "image_size": net.image_size}
        return "report"

    cli.load_library()
    monkeypatch.setattr(rbvae_tf.training, "fit", fake_fit)
    monkeypatch.setattr(rbvae_tf.evaluation, "evaluate", fake_evaluate)
    monkeypatch.setattr(rbvae_tf.evaluation, "summary_lines", lambda results: [])
    monkeypatch.setattr(rbvae_tf.loading, "load_trained", lambda spec: (None, {"name": "m"}))
    monkeypatch.setattr(export, "export_model", fake_export)
    monkeypatch.setattr(export, "run_infer_bench", fake_infer)
    monkeypatch.setattr(rbvae_tf.benchmarks, "train_speed", fake_speed)
    return calls


FORMER = [
    (["fit", "--preset", "tiny", "--out", "{tmp}/r"], "fit", {"budget": "tiny", "out": "{tmp}/r", "progress": "compact"},
     ["--preset", "--budget", "--out", "--out-dir"]),
    (["evaluate", "m", "--out", "{tmp}/e"], "evaluate", {"out": "{tmp}/e"}, ["--out", "--out-dir"]),
    (["export", "m", "--out", "{tmp}/x"], "export", {"out": "{tmp}/x"}, ["--out", "--out-dir"]),
    (["bench", "train", "--preset", "paper", "--steps", "7"], "bench train", {"budget": "paper", "repeats": 7},
     ["--preset", "--budget", "--steps", "--repeats"]),
    (["bench", "infer", "--untrained", "srbvae", "--size", "16", "--width", "0.125", "--batch", "1,3"], "bench infer",
     {"sizes": [1, 3], "image_size": 16}, ["--size", "--image-size", "--batch", "--batch-size"]),
]


@pytest.mark.parametrize("args, call, expected, renames", FORMER, ids=[row[1] for row in FORMER])
def test_former_names_still_work_with_one_note_each(args, call, expected, renames, captured, tmp_path):
    fill = lambda value: value.replace("{tmp}", str(tmp_path)) if isinstance(value, str) else value  # noqa: E731
    result = CliRunner().invoke(cli.cli, [fill(a) for a in args])
    assert result.exit_code == 0, result.output
    assert captured[call] == {key: fill(value) for key, value in expected.items()}
    notes = [f"note: {old} is deprecated, use {new}" for old, new in zip(renames[::2], renames[1::2])]
    assert result.stderr.splitlines() == notes


def test_former_names_are_hidden_from_help():
    for path, command in visible_commands():
        text = command.get_help(click.Context(command, info_name="x", **cli.cli.context_settings))
        for option in getattr(command, "params", []):
            if getattr(option, "renamed_to", None):
                assert option.hidden and f"{option.opts[0]} " not in text.replace(option.renamed_to, ""), path


def test_data_mnist_style_former_names_build_the_same_folder(tmp_path):
    result = CliRunner().invoke(cli.cli, ["data", "mnist-style", "--out", str(tmp_path / "d"), "--size", "16",
                                          "--seed", "3", "--limit", "4"])
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines() == ["note: --out is deprecated, use --out-dir",
                                          "note: --size is deprecated, use --image-size",
                                          "note: --seed is deprecated, use --data-seed"]
    meta = json.loads((tmp_path / "d" / "meta.json").read_text())
    assert (meta["size"], meta["seed"], meta["limit"]) == (16, 3, 4)

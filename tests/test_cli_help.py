"""The command line answers fast and explains itself.

- `--help` (of every command) and `--version` import neither TensorFlow nor rbvae_tf;
- `--version` prints the package version, which is pyproject's;
- the top-level help shows each command's whole description, every option has a help text that
  ends with an example of it, and the names the options offer are the library's;
- the former option names of 0.1 are gone: each is an unknown option.
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

COMMANDS = [
    ["fit"],
    ["evaluate"],
    ["generate"],
    ["transfer"],
    ["export"],
    ["zoo"],
    ["data"],
    ["data", "mnist-style"],
    ["bench"],
    ["bench", "train"],
    ["bench", "infer"],
]
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
    done = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(calls)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "COLUMNS": "80"},
    )
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


@pytest.mark.parametrize(
    "path, command",
    [(" ".join(p), c) for p, c in visible_commands() if p],
    ids=lambda value: value if isinstance(value, str) else "",
)
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
    from rbvae_tf.data.render import PADDINGS
    from rbvae_tf.models import MODELS
    from rbvae_tf.progress import MODES

    assert cli.MODEL_NAMES == tuple(MODELS)
    assert cli.BUDGETS == tuple(PRESETS)
    assert cli.PROGRESS_MODES == MODES
    assert cli.LR_SCHEDULE_NAMES == LR_SCHEDULES
    assert cli.PADDINGS == tuple(PADDINGS)


def test_one_name_per_idea_across_commands():
    """The same idea has the same option name everywhere, and `--out` is always a file, `--out-dir` a folder."""
    options = {
        (" ".join(path), name): option
        for path, command in visible_commands()
        for option in getattr(command, "params", [])
        if isinstance(option, click.Option) and not option.hidden
        for name in option.opts
    }
    names = {name for _, name in options}
    assert not names & {"--size", "--batch", "--steps", "--preset", "--seed-data", "--output"}
    for (path, name), option in options.items():
        if name == "--out":
            assert isinstance(option.type, click.Path) and not option.type.dir_okay, path
        if name == "--out-dir":
            assert isinstance(option.type, click.Path) and not option.type.file_okay, path
    assert {path for path, name in options if name == "--image-size"} == {
        "bench infer",
        "bench train",
        "data mnist-style",
        "fit",
    }
    assert {path for path, name in options if name == "--data-seed"} == {
        "data mnist-style",
        "evaluate",
        "fit",
        "generate",
        "transfer",
    }


# --- the former names ----------------------------------------------------------------------------

# The former spellings of 0.1 (removed, CHANGELOG "Unreleased"): each is now an unknown option, one line, exit 2.
FORMER = [
    ["data", "mnist-style", "--out", "d"],
    ["data", "mnist-style", "--out-dir", "d", "--size", "16"],
    ["data", "mnist-style", "--out-dir", "d", "--seed", "3"],
    ["fit", "--preset", "tiny"],
    ["fit", "--out", "r"],
    ["evaluate", "m", "--out", "e"],
    ["export", "m", "--out", "x"],
    ["bench", "train", "--preset", "paper"],
    ["bench", "train", "--steps", "7"],
    ["bench", "infer", "--size", "16"],
    ["bench", "infer", "--batch", "1,3"],
]


@pytest.mark.parametrize("args", FORMER, ids=[" ".join(row) for row in FORMER])
def test_former_names_are_gone(args):
    result = CliRunner().invoke(cli.cli, args)
    former = next(word for word in args if word in ("--out", "--size", "--seed", "--preset", "--steps", "--batch"))
    assert result.exit_code == 2, result.output
    assert result.stderr.splitlines()[0].startswith(f"error: No such option '{former}'."), result.stderr
    assert len(result.stderr.splitlines()) == 1

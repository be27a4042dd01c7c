"""ruff passes on the tree: `ruff check .` (pycodestyle, pyflakes, import order, lines of at most 120
characters) and `ruff format --check .`, configured in pyproject.toml. Outside CI the test skips when ruff
is not installed (`pip install -r requirements-dev.txt`); in CI it fails."""

import importlib.util
import subprocess
import sys

import pytest

from tests.conftest import REPO, require_tool


@pytest.mark.parametrize("command", [["check", "."], ["format", "--check", "."]], ids=["check", "format"])
def test_ruff_passes(command):
    require_tool(
        importlib.util.find_spec("ruff") is not None, "ruff is not installed: pip install -r requirements-dev.txt"
    )
    done = subprocess.run(
        [sys.executable, "-m", "ruff", *command, "--no-cache"], cwd=REPO, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stdout + done.stderr

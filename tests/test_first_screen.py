"""What a new user sees first: a tiny `python cli.py fit` prints no TensorFlow error or warning line."""

import os
import re
import subprocess
import sys

from tests.conftest import REPO

TF_LOG_LINE = re.compile(r"^[EW]\d{4} ", re.MULTILINE)  # absl's E0000 / W0000 prefix


def test_tiny_fit_shows_no_tensorflow_error_lines(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}  # the CLI's own default
    done = subprocess.run(
        [
            sys.executable,
            str(REPO / "cli.py"),
            "fit",
            "--budget",
            "tiny",
            "--epochs",
            "1",
            "--steps-per-epoch",
            "1",
            "--limit",
            "64",
            "--out-dir",
            str(tmp_path / "run"),
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    first_lines = "\n".join((done.stderr + done.stdout).splitlines()[:40])
    assert "training on 1 replica: srbvae" in done.stdout
    assert not TF_LOG_LINE.search(first_lines), first_lines

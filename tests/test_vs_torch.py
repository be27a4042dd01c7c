"""benchmarks/vs_torch.py, run as docs/performance.md says (from the repository root): without torch it
times TensorFlow with oneDNN on and off; with --torch the rows keep their torch columns."""

import importlib.util
import json
import os
import re
import stat
import subprocess
import sys

import pytest

from rbvae_tf.runtime import cpu_info
from tests.conftest import REPO

SCRIPT = REPO / "benchmarks" / "vs_torch.py"


def test_without_torch_times_onednn_on_and_off(tmp_path):
    out = tmp_path / "results.jsonl"
    result = subprocess.run(
        [
            sys.executable,
            "benchmarks/vs_torch.py",
            "--sizes",
            "16",
            "--rounds",
            "1",
            "--warmup-rounds",
            "0",
            "--out",
            str(out),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    cpu = cpu_info()
    assert lines[0] == f"CPU: {cpu['cpu']}; flags: {' '.join(cpu['cpu_flags'])}; {os.cpu_count()} cores"
    assert lines[1] == "| size | width | round | oneDNN on s/step | oneDNN off s/step | off/on |"
    assert lines[2] == "|---|---|---|---|---|---|"
    row = re.fullmatch(r"\| 16 \| 0\.125 \| 1 \| (\d+\.\d{3}) \| (\d+\.\d{3}) \| (\d+\.\d{2}) \|", lines[3])
    assert row, lines[3]
    on, off, ratio = map(float, row.groups())
    assert on > 0 and off > 0
    assert ratio == pytest.approx(off / on, rel=0.05)  # on, off are rounded; the ratio is of the unrounded times
    assert lines[4] == f"| 16 | 0.125 | median | | | off/on {ratio:.2f}x |"
    assert len(lines) == 5
    (record,) = [json.loads(line) for line in out.read_text().splitlines()]
    assert (record["size"], record["width"], record["round"], record["torch_s"]) == (16, 0.125, 1, None)
    assert f"{record['onednn_on_s']:.3f}" == row.group(1) and f"{record['onednn_off_s']:.3f}" == row.group(2)
    assert f"{record['onednn_off_s'] / record['onednn_on_s']:.2f}" == row.group(3)
    assert record["cpu"] == cpu["cpu"] and record["cpu_flags"] == cpu["cpu_flags"]


def test_with_a_fake_torch_the_rows_keep_the_torch_columns(tmp_path, monkeypatch, capsys):
    """The TensorFlow steps are stubbed; --torch is a stand-in executable printing the JSON line that
    benchmarks/torch_srbvae_step.py prints, and recording the arguments it was given."""
    calls = tmp_path / "calls"
    fake = tmp_path / "python"
    fake.write_text(f'#!/bin/sh\necho "$@" >> {calls}\necho \'{{"median_step_s": 0.6, "threads": 2}}\'\n')
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    spec = importlib.util.spec_from_file_location("vs_torch", SCRIPT)
    vs_torch = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(vs_torch)
    assert vs_torch.REPO == REPO
    times = iter([0.2, 0.4, 0.3, 0.9])  # on, off of the warm-up round, then of round 1
    monkeypatch.setattr(vs_torch, "tf_step", lambda size, width, steps, warmup, onednn: next(times))
    monkeypatch.setattr(
        sys,
        "argv",
        ["vs_torch.py", "--torch", str(fake), "--sizes", "32", "--rounds", "1", "--steps", "4", "--warmup", "2"],
    )
    vs_torch.main()
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[1:] == [
        "| size | width | round | oneDNN on s/step | oneDNN off s/step | torch s/step "
        "| torch/on | torch/off | off/on |",
        "|---|---|---|---|---|---|---|---|---|",
        "| 32 | 0.5 | warm-up | 0.200 | 0.400 | 0.600 | 3.00 | 1.50 | 2.00 |",
        "| 32 | 0.5 | 1 | 0.300 | 0.900 | 0.600 | 2.00 | 0.67 | 3.00 |",
        "| 32 | 0.5 | median | | | | torch/on 2.00x, torch/off 0.67x, off/on 3.00x |",
    ]
    assert (
        calls.read_text().splitlines() == [f"{SCRIPT.parent / 'torch_srbvae_step.py'} 32 0.5 --steps 4 --warmup 2"] * 2
    )

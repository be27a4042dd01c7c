"""benchmarks/vs_torch.py, run as docs/performance.md says (from the repository root): without torch it
times TensorFlow with oneDNN on and off; with --torch the rows keep their torch columns; --variants runs XLA and
bf16 beside them, and a round disturbed by other work (--max-other) runs again."""

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


def load_script():
    spec = importlib.util.spec_from_file_location("vs_torch", SCRIPT)
    vs_torch = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(vs_torch)
    return vs_torch


def test_each_variant_asks_bench_train_for_its_settings(monkeypatch):
    """`tf_step` runs `cli.py bench train` with the variant's oneDNN, XLA and precision, and checks the row."""
    vs_torch = load_script()
    seen = []

    def fake_last_json(command, env=None):
        seen.append((command, env["TF_ENABLE_ONEDNN_OPTS"]))
        jit = command[command.index("--jit") + 1] == "on"
        precision = command[command.index("--mixed-precision") + 1] if "--mixed-precision" in command else "fp32"
        return [
            {"median_step_s": 0.1, "onednn": env["TF_ENABLE_ONEDNN_OPTS"] == "1", "jit": jit, "precision": precision}
        ]

    monkeypatch.setattr(vs_torch, "last_json", fake_last_json)
    for variant in vs_torch.VARIANTS:
        assert vs_torch.tf_step(32, 0.5, 20, 5, variant) == 0.1
    options = [(" ".join(command[command.index("--jit") :]), onednn) for command, onednn in seen]
    assert options == [
        ("--jit off --repeats 20 --warmup 5", "1"),
        ("--jit off --repeats 20 --warmup 5", "0"),
        ("--jit on --repeats 20 --warmup 5", "1"),
        ("--jit off --repeats 20 --warmup 5 --mixed-precision bf16", "1"),
        ("--jit on --repeats 20 --warmup 5 --mixed-precision bf16", "1"),
    ]


def test_the_variant_matrix_and_a_disturbed_round_run_again(tmp_path, monkeypatch, capsys):
    vs_torch = load_script()
    times = {"on": 0.2, "xla": 0.25, "bf16": 0.1, "xla-bf16": 0.4}
    monkeypatch.setattr(vs_torch, "tf_step", lambda size, width, steps, warmup, variant: times[variant])
    monkeypatch.setattr(vs_torch, "torch_step", lambda python, size, width, steps, warmup: 0.6)
    shares = iter([0.5] + [0.0] * 20)  # other work used half the CPUs during the first process only
    monkeypatch.setattr(vs_torch, "with_other_share", lambda call: (call(), next(shares)))
    out = tmp_path / "results.jsonl"
    argv = ["vs_torch.py", "--torch", "python", "--sizes", "32", "--rounds", "1", "--warmup-rounds", "0"]
    argv += ["--variants", "on,xla,bf16,xla-bf16", "--max-other", "0.1", "--out", str(out)]
    monkeypatch.setattr(sys, "argv", argv)
    vs_torch.main()
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[1] == (
        "| size | width | round | oneDNN on s/step | XLA s/step | bf16 s/step | XLA+bf16 s/step | torch s/step "
        "| torch/on | torch/xla | torch/bf16 | torch/xla-bf16 | xla/on | bf16/on | xla-bf16/on |"
    )
    row = "0.200 | 0.250 | 0.100 | 0.400 | 0.600 | 3.00 | 2.40 | 6.00 | 1.50 | 1.25 | 0.50 | 2.00 |"
    assert lines[3:] == [
        f"| 32 | 0.5 | disturbed (other work 50 %) | {row}",
        f"| 32 | 0.5 | 1 | {row}",
        "| 32 | 0.5 | median | | | | | | torch/on 3.00x, torch/xla 2.40x, torch/bf16 6.00x, torch/xla-bf16 1.50x, "
        "xla/on 1.25x, bf16/on 0.50x, xla-bf16/on 2.00x |",
    ]
    disturbed, counted = [json.loads(line) for line in out.read_text().splitlines()]
    assert (disturbed["round"], disturbed["other_share"]["on"], counted["round"]) == ("disturbed", 0.5, 1)
    assert (counted["onednn_on_s"], counted["xla_s"], counted["bf16_s"], counted["xla_bf16_s"]) == (0.2, 0.25, 0.1, 0.4)
    assert counted["torch_s"] == 0.6 and counted["cpu"] == cpu_info()["cpu"] and "lscpu_flags" in counted


def test_unknown_variants_are_refused():
    result = subprocess.run(
        [sys.executable, "benchmarks/vs_torch.py", "--variants", "on,fp16"], cwd=REPO, capture_output=True, text=True
    )
    assert result.returncode == 2 and "--variants takes distinct ones of on,off,xla,bf16,xla-bf16" in result.stderr

"""`bench train`: the Markdown table, then one JSON line per run; bad input is one `error:` line."""

import json

import pytest
from click.testing import CliRunner

import cli
from rbvae_tf import runtime
from rbvae_tf.errors import UserError
from rbvae_tf.models import MODELS, build_model

KEYS = {
    "model",
    "preset",
    "image_size",
    "width",
    "batch_size",
    "jit",
    "precision",
    "steps",
    "warmup",
    "median_step_s",
    "img_per_s",
    "steps_in_30_min",
    "onednn",
    "onednn_chosen_by",
    "cpu",
    "cpu_flags",
}


def test_bench_train_prints_a_table_then_json_as_the_last_line():
    result = CliRunner().invoke(
        cli.cli,
        [
            "bench",
            "train",
            "--model",
            "vae",
            "--budget",
            "tiny",
            "--image-size",
            "16",
            "--width",
            "0.125",
            "--repeats",
            "2",
            "--warmup",
            "1",
            "--jit",
            "off",
        ],
    )
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert lines[0].startswith("| model | size | width | XLA | precision | s/step | unlabelled img/s")
    assert lines[2].startswith("| vae | 16 | 0.125 | off | fp32 | ")
    rows = json.loads(lines[-1])
    assert len(rows) == 1 and set(rows[0]) == KEYS
    row = rows[0]
    assert (row["model"], row["image_size"], row["width"], row["batch_size"], row["jit"], row["precision"]) == (
        "vae",
        16,
        0.125,
        8,
        False,
        "fp32",
    )
    assert row["median_step_s"] > 0
    assert row["img_per_s"] == pytest.approx(8 / row["median_step_s"], rel=0.01)
    assert row["onednn"] is runtime.onednn_enabled() and row["cpu"] == runtime.cpu_info()["cpu"]


@pytest.mark.parametrize(
    "args, message",
    [
        (["--image-size", "24"], "error: --image-size must be a positive multiple of 16, got 24"),
        (["--image-size", "3x"], "error: --image-size takes comma-separated int values, got '3x'"),
        (["--width", "0"], "error: --width values must be > 0, got [0.0]"),
    ],
)
def test_bench_train_bad_input(args, message):
    result = CliRunner().invoke(cli.cli, ["bench", "train", "--budget", "tiny", *args])
    assert result.exit_code == 2 and message in result.output, result.output


def test_model_choices_come_from_the_registry():
    for command in ("fit", "bench train"):
        result = CliRunner().invoke(cli.cli, [*command.split(), "--model", "gan"])
        assert result.exit_code == 2 and all(name in result.output for name in MODELS), result.output


def test_build_model_refuses_unknown_names_and_arguments():
    with pytest.raises(UserError, match="unknown model 'gan'; choose one of vae, beta-vae"):
        build_model("gan")
    with pytest.raises(UserError, match=r"srbvae takes no argument 'beta_kl'; its arguments are .*weight_image"):
        build_model("srbvae", beta_kl=2.0)
    assert build_model("beta-vae", image_size=16, width=0.125, beta_kl=2.0).beta_kl == 2.0


TINY_BENCH = ["bench", "train", "--model", "vae", "--budget", "tiny", "--image-size", "16", "--width", "0.125"]
TINY_BENCH += ["--repeats", "1", "--warmup", "1", "--jit", "off"]
AVX2_ONLY = {"cpu": "AMD EPYC 7B12", "cpu_flags": ["avx2", "fma"]}


@pytest.mark.parametrize("command", [TINY_BENCH, ["fit", "--budget", "tiny", "--epochs", "1"]])
def test_bf16_on_a_cpu_without_it_is_one_error_line(command, monkeypatch, tmp_path):
    monkeypatch.setattr(runtime, "cpu_info", lambda: AVX2_ONLY)
    result = CliRunner().invoke(
        cli.cli,
        [*command, "--mixed-precision", "bf16", *(["--out-dir", str(tmp_path / "r")] if command[0] == "fit" else [])],
    )
    assert result.exit_code == 2, result.output
    assert result.output.strip() == (
        "error: --mixed-precision bf16 needs a CPU with AVX512_BF16 or AMX; AMD EPYC 7B12 has avx2, fma"
    )
    assert not (tmp_path / "r").exists()


@pytest.mark.skipif(not runtime.has_bf16(), reason="this CPU has neither AVX512_BF16 nor AMX")
def test_bench_train_times_bf16_on_request():
    try:
        result = CliRunner().invoke(cli.cli, [*TINY_BENCH, "--mixed-precision", "bf16"])
    finally:
        runtime.set_precision(None)
    assert result.exit_code == 0, result.output
    assert "| vae | 16 | 0.125 | off | bf16 | " in result.output
    assert json.loads(result.output.strip().splitlines()[-1])[0]["precision"] == "bf16"

"""`evaluate`, `generate` and `transfer` on the command line (in-process with CliRunner)."""

import json

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from cli import cli
from rbvae_tf.models import build_model

S = 16
TINY = dict(image_size=S, width=0.125, target_dim=4, common_dim=4)
LIMIT = ["--limit", "200"]


pytestmark = pytest.mark.usefixtures("load_each_model_once")  # tests/conftest.py


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """Saved tiny models (a .keras file each and a run directory) and a few input images."""
    root = tmp_path_factory.mktemp("cli_apps")
    for name in ("rbvae", "vae"):
        build_model(name, seed=1, **TINY).save(root / f"{name}.keras")
    run = root / "run"
    run.mkdir()
    (run / "model.keras").write_bytes((root / "vae.keras").read_bytes())
    fit = {"model": "vae", "preset": "tiny", "data_seed": 0, "mnist": None, "limit": 200, **TINY}
    (run / "config.json").write_text(json.dumps({"fit": fit}))
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 256, (40, 30, 3), dtype=np.uint8)).save(root / "colour.png")
    Image.fromarray(rng.integers(0, 256, (20, 20), dtype=np.uint8), mode="L").save(root / "grey.png")
    (root / "corrupt.png").write_bytes(b"\x89PNG\r\n\x1a\n not really a png")
    (root / "corrupt.keras").write_bytes(b"PK\x03\x04 broken zip")
    return root


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def png_size(path):
    with Image.open(path) as image:
        image.load()
        return image.size


def assert_user_error(result, message):
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith(f"error: {message}"), result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "Traceback" not in result.output


def test_evaluate_run_directory(files, tmp_path):
    result = run("evaluate", files / "run", "--out-dir", tmp_path / "eval", *LIMIT)
    assert result.exit_code == 0, result.output
    assert "MAE avg" in result.stdout and "metrics.json" in result.stdout
    metrics = json.loads((tmp_path / "eval" / "metrics.json").read_text())
    assert set(metrics["probe"]) == {"all", "all_sampled", "constant", "untrained"}
    assert metrics["model"]["name"] == "run" and metrics["model"]["fit"]["preset"] == "tiny"
    assert (
        "| Features | R | G | B | Scale | Width | Avg | Paper Avg (VAE) |"
        in (tmp_path / "eval" / "metrics.md").read_text()
    )


def test_generate_probe_rows_and_user_images(files, tmp_path):
    result = run("generate", files / "rbvae.keras", "--out", tmp_path / "g.png", "--rows", 3, "--cols", 4, *LIMIT)
    assert result.exit_code == 0, result.output
    zoom = 4  # 16 px tiles are enlarged to 64 px
    assert png_size(tmp_path / "g.png") == (zoom * (6 * (S + 1) + 1), zoom * (3 * (S + 1) + 1))
    result = run(
        "generate",
        files / "rbvae.keras",
        "--out",
        tmp_path / "u.png",
        "--cols",
        2,
        "--images",
        files / "colour.png",
        "--images",
        files / "grey.png",
    )
    assert result.exit_code == 0, result.output
    assert png_size(tmp_path / "u.png") == (zoom * (4 * (S + 1) + 1), zoom * (2 * (S + 1) + 1))


def test_transfer_pair_files_and_probe_grid(files, tmp_path):
    result = run(
        "transfer",
        files / "rbvae.keras",
        "--content",
        files / "colour.png",
        "--style",
        files / "grey.png",
        "--out",
        tmp_path / "t.png",
    )
    assert result.exit_code == 0, result.output
    assert png_size(tmp_path / "t.png") == (S, S)
    result = run(
        "transfer",
        files / "rbvae.keras",
        "--content",
        files / "colour.png",
        "--content",
        files / "grey.png",
        "--style",
        files / "grey.png",
        "--out",
        tmp_path / "two.png",
    )
    assert result.exit_code == 0 and "2 x 1 grid" in result.stdout
    assert png_size(tmp_path / "two.png") == (4 * (2 * (S + 1) + 1), 4 * (3 * (S + 1) + 1))
    result = run("transfer", files / "rbvae.keras", "--grid", "--out", tmp_path / "grid.png", *LIMIT)
    assert result.exit_code == 0, result.output
    assert png_size(tmp_path / "grid.png") == (4 * (7 * (S + 1) + 1),) * 2  # default N = 6, plus the borders
    result = run("transfer", files / "rbvae.keras", "--grid", 2, "--out", tmp_path / "grid2.png", *LIMIT)
    assert result.exit_code == 0, result.output
    assert png_size(tmp_path / "grid2.png") == (4 * (3 * (S + 1) + 1),) * 2


@pytest.mark.parametrize(
    "args, message",
    [
        (["evaluate", "{root}/no-such-run", "--out-dir", "{out}.d"], "no model at"),
        (["transfer", "{root}/corrupt.keras", "--grid", "--out", "{out}"], "cannot load model"),
        (
            [
                "transfer",
                "{root}/rbvae.keras",
                "--content",
                "{root}/corrupt.png",
                "--style",
                "{root}/grey.png",
                "--out",
                "{out}",
            ],
            "cannot decode image",
        ),
        (
            [
                "transfer",
                "{root}/rbvae.keras",
                "--content",
                "{root}/missing.png",
                "--style",
                "{root}/grey.png",
                "--out",
                "{out}",
            ],
            "image not found",
        ),
        (
            [
                "transfer",
                "{root}/vae.keras",
                "--content",
                "{root}/grey.png",
                "--style",
                "{root}/grey.png",
                "--out",
                "{out}",
            ],
            "transfer needs a model with an e/z split (target and common latents)",
        ),
        (["generate", "{root}/vae.keras", "--out", "{out}"], "conditional generation needs a model with an e/z split"),
        (["generate", "{root}/rbvae.keras", "--images", "{root}/corrupt.png", "--out", "{out}"], "cannot decode image"),
        (
            ["transfer", "{root}/rbvae.keras", "--grid", "2", "--content", "{root}/grey.png", "--out", "{out}"],
            "use either --grid",
        ),
        (
            ["evaluate", "{root}/rbvae.keras", "--probe", "{root}/no-folder", "--out-dir", "{out}.d"],
            "probe folder not found",
        ),
    ],
)
def test_bad_input_is_one_error_line_and_keeps_the_output(files, tmp_path, args, message):
    out = tmp_path / "existing.png"
    out.write_bytes(b"previous output")
    result = run(*(arg.format(root=files, out=out) for arg in args))
    assert_user_error(result, message)
    assert out.read_bytes() == b"previous output"
    assert [p.name for p in tmp_path.iterdir()] == ["existing.png"]

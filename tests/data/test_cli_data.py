"""`python cli.py data mnist-style`: writes loadable splits; bad input is one `error:` line, exit 2."""

import pytest
from click.testing import CliRunner

from cli import cli
from rbvae_tf.data import load_split


def run(*args):
    return CliRunner().invoke(cli, ["data", "mnist-style", *args])


def test_builds_and_writes(tmp_path):
    result = run("--out-dir", str(tmp_path / "ms"), "--image-size", "16", "--limit", "12", "--data-seed", "2", "--preview")
    assert result.exit_code == 0, result.output
    assert "built in" in result.stdout and "preview.png" in result.stdout
    names = sorted(p.name for p in (tmp_path / "ms").iterdir())
    assert names == ["meta.json", "preview.png", "probe_test.npz", "probe_train.npz", "reference.npz", "unlabelled.npz"]
    split = load_split(tmp_path / "ms", "probe_train")
    assert split["images"].shape == (12, 16, 16, 3)


@pytest.mark.parametrize(
    "args, message",
    [
        (["--image-size", "20"], "error: --image-size must be a positive multiple of 16, got 20"),
        (["--image-size", "0"], "error: --image-size must be a positive multiple of 16, got 0"),
        (["--limit", "-1"], "error: limit must be an integer >= 0, got -1"),
        (["--data-seed", "-3"], "error: seed must be an integer >= 0, got -3"),
        (["--mnist", "/no/such/mnist.npz"], "error: MNIST not found: /no/such/mnist.npz"),
    ],
)
def test_bad_input_leaves_output_untouched(tmp_path, args, message):
    out = tmp_path / "existing"
    out.mkdir()
    (out / "reference.npz").write_bytes(b"previous build")
    before = (out / "reference.npz").stat().st_mtime_ns
    result = run("--out-dir", str(out), "--limit", "4", *args)
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [result.stderr.strip()]  # one line
    assert result.stderr.startswith(message)
    assert "Traceback" not in result.output
    assert [p.name for p in out.iterdir()] == ["reference.npz"]
    assert (out / "reference.npz").read_bytes() == b"previous build"
    assert (out / "reference.npz").stat().st_mtime_ns == before


def test_corrupt_mnist(tmp_path):
    (tmp_path / "mnist.npz").write_bytes(b"garbage")
    result = run("--out-dir", str(tmp_path / "out"), "--mnist", str(tmp_path / "mnist.npz"))
    assert result.exit_code == 2 and result.stderr.startswith("error: cannot read MNIST file")
    assert not (tmp_path / "out").exists()


def test_out_is_a_file(tmp_path):
    (tmp_path / "file").write_text("keep")
    result = run("--out-dir", str(tmp_path / "file"), "--image-size", "16", "--limit", "2")
    assert result.exit_code == 2 and result.stderr.startswith("error: output")
    assert (tmp_path / "file").read_text() == "keep"

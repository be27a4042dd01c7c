"""`python cli.py data mnist-style`: writes loadable splits and their build arguments, which fit, evaluate,
generate and transfer read back with `--data`; RBVAE_MNIST is read by every command that reads MNIST; bad input
is one `error:` line, exit 2."""

import pytest
from click.testing import CliRunner

from cli import cli
from rbvae_tf.data import load_split


def run(*args):
    return CliRunner().invoke(cli, ["data", "mnist-style", *args])


def test_builds_and_writes(tmp_path):
    result = run(
        "--out-dir", str(tmp_path / "ms"), "--image-size", "16", "--limit", "12", "--data-seed", "2", "--preview"
    )
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
    assert result.exit_code == 2 and result.stderr == (
        f"error: Invalid value for '--out-dir': Directory '{tmp_path / 'file'}' is a file.\n"
    )
    assert (tmp_path / "file").read_text() == "keep"


# --- the folder you built is the folder you train on -----------------------------------------------


def invoke(*args, **kwargs):
    return CliRunner().invoke(cli, [str(a) for a in args], **kwargs)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """A 16 px MNIST-style folder with references 3 px wide, built by the command line."""
    folder = tmp_path_factory.mktemp("built") / "ms16"
    result = invoke(
        "data",
        "mnist-style",
        "--out-dir",
        folder,
        "--image-size",
        16,
        "--limit",
        64,
        "--data-seed",
        5,
        "--reference-width",
        3,
    )
    assert result.exit_code == 0, result.output
    return folder


def test_the_folder_records_its_build_arguments(built):
    from rbvae_tf.data import mnist_source_id, read_built

    meta = read_built(built, 16)
    assert {k: meta[k] for k in ("size", "seed", "limit", "reference_width")} == {
        "size": 16,
        "seed": 5,
        "limit": 64,
        "reference_width": 3,
    }
    assert meta["source"] == mnist_source_id()  # the bundled MNIST (RBVAE_MNIST unset)


def test_fit_evaluate_generate_and_transfer_read_the_built_folder(built, tmp_path, monkeypatch):
    import json

    import numpy as np

    from rbvae_tf import data as data_lib

    def no_build(*args, **kwargs):
        raise AssertionError("a command built MNIST-style data instead of reading --data")

    monkeypatch.setattr(data_lib, "cached_mnist_style", no_build)
    run = tmp_path / "run"
    result = invoke(
        "fit",
        "--model",
        "rbvae",
        "--budget",
        "tiny",
        "--epochs",
        1,
        "--steps-per-epoch",
        1,
        "--data",
        built,
        "--out-dir",
        run,
        "--progress",
        "none",
    )
    assert result.exit_code == 0, result.output
    fit = json.loads((run / "config.json").read_text())["fit"]
    assert (fit["data"], fit["data_seed"], fit["limit"], fit["reference_width"], fit["mnist"]) == (
        str(built.resolve()),
        5,
        64,
        3,
        None,
    )  # config.json says what was read
    result = invoke("evaluate", run, "--out-dir", tmp_path / "eval")  # the run's folder, by default
    assert result.exit_code == 0, result.output
    metrics = json.loads((tmp_path / "eval" / "metrics.json").read_text())
    assert (metrics["data"]["folder"], metrics["data"]["seed"], metrics["data"]["probe_test"]) == (
        str(built.resolve()),
        5,
        64,
    )
    assert metrics["health"]["reference_width"] == 3
    for args in (
        ["generate", run, "--rows", 2, "--cols", 2, "--out", tmp_path / "g.png"],
        ["transfer", run / "model.keras", "--data", built, "--grid", 2, "--out", tmp_path / "t.png"],
    ):
        result = invoke(*args)
        assert result.exit_code == 0, result.output
    probe = data_lib.load_split(built, "probe_test")["images"]
    from rbvae_tf.applications import pick

    grid = np.asarray(__import__("PIL.Image", fromlist=["Image"]).open(tmp_path / "g.png"))
    first = np.repeat(np.repeat(pick(probe, 2, 0)[0], 4, axis=0), 4, axis=1)  # 16 px tiles drawn 4x
    assert np.array_equal(grid[4:68, 4:68], first)  # the first row's input is the folder's probe image


def test_a_folder_of_another_size_is_an_error_not_a_resize(built, tmp_path):
    result = invoke("fit", "--budget", "cpu", "--data", built, "--out-dir", tmp_path / "run")
    assert result.exit_code == 2 and result.stderr == (
        f"error: --data {built} was built at 16 px, but the run is 32 px: train at its size with --image-size 16, "
        "or build one with `python cli.py data mnist-style --image-size 32`\n"
    )
    assert not (tmp_path / "run").exists()


def test_rbvae_mnist_is_read_by_every_command_that_reads_mnist(tmp_path):
    from rbvae_tf.models import build_model

    build_model("rbvae", image_size=16, width=0.125, target_dim=4, common_dim=4).save(tmp_path / "m.keras")
    missing = tmp_path / "missing.npz"
    for args in (
        ["data", "mnist-style", "--out-dir", tmp_path / "d"],
        ["fit", "--budget", "tiny", "--out-dir", tmp_path / "run"],
        ["evaluate", tmp_path / "m.keras", "--out-dir", tmp_path / "eval"],
        ["generate", tmp_path / "m.keras", "--out", tmp_path / "g.png"],
        ["transfer", tmp_path / "m.keras", "--grid", 2, "--out", tmp_path / "t.png"],
    ):
        result = invoke(*args, env={"RBVAE_MNIST": str(missing)})
        assert result.exit_code == 2, (args, result.output)
        assert result.stderr == f"error: MNIST not found: {missing} (pass an mnist.npz or a folder of IDX files)\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.keras"]


def test_rbvae_mnist_gives_the_digits_of_the_built_data(tmp_path):
    import json

    import numpy as np

    from rbvae_tf.data import mnist_source_id

    rng = np.random.default_rng(1)
    digits = {f"x_{s}": rng.integers(0, 256, (n, 28, 28), dtype=np.uint8) for s, n in (("train", 40), ("test", 20))}
    labels = {f"y_{s}": np.arange(n, dtype=np.uint8) % 10 for s, n in (("train", 40), ("test", 20))}
    np.savez(tmp_path / "mine.npz", **digits, **labels)
    result = invoke(
        "data",
        "mnist-style",
        "--out-dir",
        tmp_path / "d",
        "--image-size",
        16,
        env={"RBVAE_MNIST": str(tmp_path / "mine.npz")},
    )
    assert result.exit_code == 0, result.output
    meta = json.loads((tmp_path / "d" / "meta.json").read_text())
    assert meta["source"] == mnist_source_id(tmp_path / "mine.npz") != mnist_source_id()
    assert len(load_split(tmp_path / "d", "unlabelled")["labels"]) == 40  # two transforms of 20 digits

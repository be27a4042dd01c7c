"""The bad-input matrix: every row is one bad input to the CLI or an ONNX Runtime script.

Each row expects exactly one line `error: ...` on stderr (the row's exact line, or its start where
the rest names a temporary path), exit status 2, no traceback, and the output that already existed
unchanged: every row points its output at a file (or a run folder) created before the call.

CLI rows run in-process with click's CliRunner (one TensorFlow start-up for all of them); the `proc`
rows run real `python cli.py` processes and the `ort` rows real `python export/onnx_*.py` processes,
to prove that a real process prints no traceback either.

Running as root, a chmod-based "unreadable folder" or "read-only directory" would be read and
written anyway, so both are made in ways that fail for root too: the unreadable folder is a symlink
that points at itself (ELOOP on every read), and the read-only directory is an output path whose
parent is a regular file (ENOTDIR on every write).
"""

import io
import json
import os
import pathlib
import subprocess
import sys
import zipfile

import keras
import numpy as np
import onnx
import pytest
from click.testing import CliRunner
from onnx import TensorProto, helper
from PIL import Image

from cli import cli
from export import onnx_transfer
from export.ort_common import run_main
from rbvae_tf.models import build_model
from tests.conftest import REPO

S = 16
TINY = dict(image_size=S, width=0.125, target_dim=4, common_dim=4)
ORIGINAL = b"an output that existed before the call"
FIT = ["fit", "--budget", "tiny", "--out-dir", "{run}"]
GOOD = ["--reference", "{d}/good"]


class Touch:
    """Unpickling this creates the file `marker`: proof that a loader unpickled."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return pathlib.Path.touch, (pathlib.Path(self.marker),)


def png_bytes(rng, fmt="PNG", size=(20, 20)):
    stream = io.BytesIO()
    Image.fromarray(rng.integers(0, 256, (*size, 3), dtype=np.uint8)).save(stream, fmt)
    return stream.getvalue()


def image_folder(root, name, extra=None):
    folder = root / name
    folder.mkdir()
    rng = np.random.default_rng(len(name))
    for i in range(10):
        (folder / f"{i}.png").write_bytes(png_bytes(rng))
    for file_name, data in (extra or {}).items():
        (folder / file_name).write_bytes(data)
    return folder


def transfer_onnx(path):
    """A stand-in `transfer` graph (images = content + style) with the inputs of a real export."""
    shape = ["batch", S, S, 3]
    graph = helper.make_graph(
        [helper.make_node("Add", ["content", "style"], ["images"])],
        "transfer",
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, shape) for n in ("content", "style")],
        [helper.make_tensor_value_info("images", TensorProto.FLOAT, shape)],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.save(model, path)


pytestmark = pytest.mark.usefixtures("load_each_model_once")  # tests/conftest.py


@pytest.fixture(scope="module")
def d(tmp_path_factory):
    """The bad inputs, and a few good ones to pair them with."""
    root = tmp_path_factory.mktemp("bad_input")
    rng = np.random.default_rng(0)
    good_png, good_jpg = png_bytes(rng), png_bytes(rng, "JPEG")
    image_folder(root, "good")
    (root / "empty").mkdir()
    (root / "loop").symlink_to(root / "loop")  # unreadable for root too: ELOOP
    with pytest.raises(OSError):
        os.listdir(root / "loop")
    image_folder(root, "corrupt_png", {"bad.png": b"\x89PNG\r\n\x1a\n not really a png"})
    image_folder(root, "truncated_png", {"cut.png": good_png[: len(good_png) // 2]})
    image_folder(root, "corrupt_jpg", {"bad.jpg": b"\xff\xd8\xff\xe0 not really a jpeg"})
    image_folder(root, "truncated_jpg", {"cut.jpg": good_jpg[: len(good_jpg) // 2]})
    (root / "corrupt.png").write_bytes(b"\x89PNG\r\n\x1a\n not really a png")
    (root / "truncated.jpg").write_bytes(good_jpg[: len(good_jpg) // 2])
    # MNIST files: truncated, wrong keys, wrong dtype, and pickled objects that must not be unpickled
    x, y = rng.integers(0, 256, (4, 28, 28), dtype=np.uint8), np.arange(4, dtype=np.uint8)
    np.savez(root / "mnist_ok.npz", x_train=x, y_train=y, x_test=x, y_test=y)
    whole = (root / "mnist_ok.npz").read_bytes()
    (root / "mnist_truncated.npz").write_bytes(whole[: len(whole) // 2])
    np.savez(root / "mnist_keys.npz", images=x, labels=y)
    np.savez(root / "mnist_dtype.npz", x_train=x.astype(np.float32), y_train=y, x_test=x, y_test=y)
    evil = np.array([Touch(root / "unpickled")], dtype=object)
    np.savez(root / "mnist_pickle.npz", x_train=evil, y_train=y, x_test=x, y_test=y)
    # .keras files: ours, one with a lambda (refused by safe mode), one of another project's class,
    # and a valid Keras model that is not one of this project's
    build_model("rbvae", seed=1, **TINY).save(root / "rbvae.keras")
    inputs = keras.Input((4,))
    keras.Model(inputs, keras.layers.Lambda(lambda t: t * 2)(inputs)).save(root / "lambda.keras")
    foreign = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
    foreign.save(root / "foreign.keras")
    with (
        zipfile.ZipFile(root / "foreign.keras") as source,
        zipfile.ZipFile(root / "other_project.keras", "w") as target,
    ):
        for item in source.infolist():
            data = source.read(item)
            if item.filename == "config.json":
                config = json.loads(data)
                config.update(module="other_project.models", class_name="Net", registered_name="other_project>Net")
                data = json.dumps(config).encode()
            target.writestr(item, data)
    # a built MNIST-style folder at 32 px (the tiny budget and the .keras files are 16 px)
    from rbvae_tf.data import make_mnist_style

    make_mnist_style(root / "ms32", size=32, limit=8)
    # export folders for the ONNX Runtime scripts: a working one, one without metadata.json
    for name in ("export", "export_no_metadata"):
        (root / name / "onnx").mkdir(parents=True)
        transfer_onnx(str(root / name / "onnx" / "transfer.onnx"))
    (root / "export" / "metadata.json").write_text(
        json.dumps(
            {
                "model": "srbvae",
                "image_size": S,
                "target_dim": 4,
                "common_dim": 4,
                "reference_target": [0.0] * 4,
                "files": {"onnx": {"onnx/transfer.onnx": {}}},
            }
        )
    )
    return root


def wrong_shape(channels, size=S):
    def main(argv):
        image = np.zeros((size, size, channels), np.float32)
        onnx_transfer.transfer(argv[0], image, image, provider="cpu")

    return main


# (id, kind, arguments, the expected stderr line: exact, or its start when it ends with "...")
ROWS = [
    (
        "unknown model",
        "cli",
        [*FIT, "--model", "gan"],
        "error: Invalid value for '--model': 'gan' is not one of 'vae', 'beta-vae', 'dip-vae-i', 'dip-vae-ii', "
        "'svae', 'rbvae', 'srbvae'.",
    ),
    (
        "unknown budget",
        "cli",
        [*FIT, "--budget", "huge"],
        "error: Invalid value for '--budget': 'huge' is not one of 'tiny', 'cpu', 'paper'.",
    ),
    (
        "a former option name (removed)",
        "cli",
        [*FIT, "--preset", "huge"],
        "error: No such option '--preset'. Did you mean '--progress'?",
    ),
    (
        "unknown --model-arg name",
        "cli",
        [*FIT, "--model-arg", "no_such=1"],
        "error: srbvae takes no argument 'no_such'; its arguments are ...",
    ),
    (
        "--model-arg of the wrong type",
        "cli",
        [*FIT, "--model", "beta-vae", "--model-arg", "beta_kl=high"],
        "error: beta-vae argument beta_kl must be a number, got 'high'",
    ),
    (
        "batch size 0",
        "cli",
        [*FIT, "--batch-size", "0"],
        "error: Invalid value for '--batch-size': 0 is not in the range x>=1.",
    ),
    (
        "batch size negative",
        "cli",
        [*FIT, "--batch-size", "-4"],
        "error: Invalid value for '--batch-size': -4 is not in the range x>=1.",
    ),
    (
        "image size not a multiple of 16",
        "cli",
        [*FIT, "--image-size", "24"],
        "error: --image-size must be a positive multiple of 16, got 24",
    ),
    ("width 0", "cli", [*FIT, "--width", "0"], "error: Invalid value for '--width': 0.0 is not in the range x>0."),
    (
        "width negative",
        "cli",
        [*FIT, "--width", "-0.5"],
        "error: Invalid value for '--width': -0.5 is not in the range x>0.",
    ),
    ("epochs 0", "cli", [*FIT, "--epochs", "0"], "error: Invalid value for '--epochs': 0 is not in the range x>=1."),
    (
        "missing data folder",
        "cli",
        [*FIT, *GOOD, "--unlabelled", "{d}/nowhere"],
        "error: image folder not found: {d}/nowhere",
    ),
    (
        "empty data folder",
        "cli",
        [*FIT, *GOOD, "--unlabelled", "{d}/empty"],
        "error: no PNG/JPEG/BMP images in {d}/empty",
    ),
    (
        "unreadable data folder",
        "cli",
        [*FIT, *GOOD, "--unlabelled", "{d}/loop"],
        "error: cannot read folder {d}/loop: Too many levels of symbolic links",
    ),
    (
        "a file where a folder is expected",
        "cli",
        [*FIT, *GOOD, "--unlabelled", "{d}/good/0.png"],
        "error: {d}/good/0.png is a file, not a folder of images",
    ),
    (
        "corrupt PNG",
        "cli",
        [*FIT, *GOOD, "--unlabelled", "{d}/corrupt_png"],
        "error: cannot decode image {d}/corrupt_png/bad.png: ...",
    ),
    (
        "truncated PNG",
        "cli",
        [*FIT, *GOOD, "--unlabelled", "{d}/truncated_png"],
        "error: cannot decode image {d}/truncated_png/cut.png: ...",
    ),
    (
        "corrupt JPEG",
        "cli",
        [*FIT, *GOOD, "--unlabelled", "{d}/corrupt_jpg"],
        "error: cannot decode image {d}/corrupt_jpg/bad.jpg: ...",
    ),
    (
        "truncated JPEG",
        "cli",
        [*FIT, *GOOD, "--unlabelled", "{d}/truncated_jpg"],
        "error: cannot decode image {d}/truncated_jpg/cut.jpg: ...",
    ),
    (
        "truncated mnist.npz",
        "cli",
        [*FIT, "--mnist", "{d}/mnist_truncated.npz"],
        "error: cannot read MNIST file {d}/mnist_truncated.npz: ...",
    ),
    (
        "npz with wrong keys",
        "cli",
        [*FIT, "--mnist", "{d}/mnist_keys.npz"],
        "error: {d}/mnist_keys.npz is not an mnist.npz (expected x_train, y_train, x_test, y_test, got images, labels)",
    ),
    (
        "npz with wrong dtype",
        "cli",
        [*FIT, "--mnist", "{d}/mnist_dtype.npz"],
        "error: {d}/mnist_dtype.npz: x_train must be uint8 (N, 28, 28), got float32 (4, 28, 28)",
    ),
    (
        "npz with pickled objects",
        "cli",
        [*FIT, "--mnist", "{d}/mnist_pickle.npz"],
        "error: cannot read MNIST file {d}/mnist_pickle.npz: Object arrays cannot be loaded when allow_pickle=False",
    ),
    (
        "--replicas larger than possible",
        "cli",
        [*FIT, "--replicas", "64", "--batch-size", "64"],
        "error: --replicas 64: ...",
    ),
    (
        "--workers without a port",
        "cli",
        [*FIT, "--workers", "127.0.0.1", "--worker-index", "0"],
        "error: --workers takes host:port addresses separated by commas, got '127.0.0.1'",
    ),
    (
        "--workers with a port out of range",
        "cli",
        [*FIT, "--workers", "127.0.0.1:1,127.0.0.1:99999", "--worker-index", "0"],
        "error: --workers takes host:port addresses separated by commas, got '127.0.0.1:99999'",
    ),
    (
        "--workers with an empty address",
        "cli",
        [*FIT, "--workers", "127.0.0.1:1,", "--worker-index", "0"],
        "error: --workers takes host:port addresses separated by commas, got ''",
    ),
    (
        "--workers listing an address twice",
        "cli",
        [*FIT, "--workers", "h:1,h:1", "--worker-index", "0"],
        "error: --workers lists an address twice: h:1,h:1",
    ),
    (
        "--workers without --worker-index",
        "cli",
        [*FIT, "--workers", "h:1,g:2"],
        "error: --workers needs --worker-index (0 for the chief, which writes the run directory)",
    ),
    (
        "--worker-index out of range",
        "cli",
        [*FIT, "--workers", "h:1,g:2", "--worker-index", "2"],
        "error: --worker-index must be in 0..1 for 2 workers, got 2",
    ),
    (
        "--worker-index negative",
        "cli",
        [*FIT, "--workers", "h:1,g:2", "--worker-index", "-1"],
        "error: --worker-index must be in 0..1 for 2 workers, got -1",
    ),
    ("--worker-index without --workers", "cli", [*FIT, "--worker-index", "1"], "error: --worker-index needs --workers"),
    (
        "--workers with --replicas",
        "cli",
        [*FIT, "--workers", "h:1,g:2", "--worker-index", "0", "--replicas", "2"],
        "error: --replicas does not combine with --workers: each worker uses all its GPUs (or its CPU)",
    ),
    (
        "--backup-every 0",
        "cli",
        [*FIT, "--backup-every", "0"],
        "error: Invalid value for '--backup-every': 0 is not in the range x>=1.",
    ),
    (
        "fit output in a read-only place",
        "cli",
        ["fit", "--budget", "tiny", "--out-dir", "{d}/good/0.png/run"],
        "error: cannot create {d}/good/0.png/run: {d}/good/0.png is not a folder",
    ),
    (
        "a folder where an output file is expected",
        "cli",
        ["transfer", "{d}/rbvae.keras", "--content", "{d}/good/0.png", "--style", "{d}/good/1.png", "--out", "{run}"],
        "error: Invalid value for '--out': File '{run}' is a directory.",
    ),
    (
        "corrupt PNG to transfer",
        "cli",
        ["transfer", "{d}/rbvae.keras", "--content", "{d}/corrupt.png", "--style", "{d}/good/0.png", "--out", "{out}"],
        "error: cannot decode image {d}/corrupt.png: ...",
    ),
    (
        "a .keras file with a lambda (safe mode)",
        "cli",
        ["transfer", "{d}/lambda.keras", "--grid", "2", "--out", "{out}"],
        "error: cannot load model {d}/lambda.keras: ...",
    ),
    (
        "a .keras file of another project's class",
        "cli",
        ["transfer", "{d}/other_project.keras", "--grid", "2", "--out", "{out}"],
        "error: cannot load model {d}/other_project.keras: ...",
    ),
    (
        "a Keras model that is not this project's",
        "cli",
        ["transfer", "{d}/foreign.keras", "--grid", "2", "--out", "{out}"],
        "error: {d}/foreign.keras is a Sequential, not an rbvae_tf model (vae, beta-vae, dip-vae-i, dip-vae-ii, "
        "svae, rbvae, srbvae)",
    ),
    (
        "generate output in a read-only place",
        "cli",
        [
            "generate",
            "{d}/rbvae.keras",
            "--rows",
            "1",
            "--cols",
            "1",
            "--images",
            "{d}/good/0.png",
            "--out",
            "{d}/good/0.png/grid.png",
        ],
        "error: cannot write {d}/good/0.png/grid.png: {d}/good/0.png is not a folder",
    ),
    (
        "unknown --progress",
        "cli",
        [*FIT, "--progress", "loud"],
        "error: Invalid value for '--progress': 'loud' is not one of 'compact', 'full', 'epoch', 'none'.",
    ),
    (
        "--data built at another size",
        "cli",
        [*FIT, "--data", "{d}/ms32"],
        "error: --data {d}/ms32 was built at 32 px, but the run is 16 px: train at its size with --image-size 32, "
        "or build one with `python cli.py data mnist-style --image-size 16`",
    ),
    (
        "--data that does not exist",
        "cli",
        [*FIT, "--data", "{d}/nowhere"],
        "error: --data {d}/nowhere: no such folder (build one with `python cli.py data mnist-style --out-dir "
        "{d}/nowhere`)",
    ),
    (
        "--data that was not built",
        "cli",
        [*FIT, "--data", "{d}/good"],
        "error: --data {d}/good is not a built MNIST-style folder (no readable meta.json); build it with "
        "`python cli.py data mnist-style --out-dir {d}/good`",
    ),
    (
        "--data with build options",
        "cli",
        [*FIT, "--data", "{d}/ms32", "--limit", "4", "--data-seed", "1"],
        "error: --data-seed, --limit describe how to build MNIST-style data, but --data {d}/ms32 is built: its "
        "meta.json gives them",
    ),
    (
        "--data with image folders",
        "cli",
        [*FIT, "--data", "{d}/ms32", *GOOD, "--unlabelled", "{d}/good"],
        "error: --data is an MNIST-style folder: it does not combine with --reference/--unlabelled",
    ),
    (
        "evaluate --data built at another size",
        "cli",
        ["evaluate", "{d}/rbvae.keras", "--data", "{d}/ms32", "--out-dir", "{run}"],
        "error: --data {d}/ms32 was built at 32 px, but model rbvae is 16 px: build one with "
        "`python cli.py data mnist-style --image-size 16`",
    ),
    (
        "transfer --data built at another size",
        "cli",
        ["transfer", "{d}/rbvae.keras", "--data", "{d}/ms32", "--grid", "2", "--out", "{out}"],
        "error: --data {d}/ms32 was built at 32 px, but model rbvae is 16 px: build one with "
        "`python cli.py data mnist-style --image-size 16`",
    ),
    (
        "evaluate --probe with --data",
        "cli",
        ["evaluate", "{d}/rbvae.keras", "--probe", "{d}/good", "--data", "{d}/ms32", "--out-dir", "{run}"],
        "error: use either --probe (a labelled folder) or --data (an MNIST-style folder), not both",
    ),
    (
        "data mnist-style without --out-dir",
        "cli",
        ["data", "mnist-style", "--image-size", "16"],
        "error: Missing option '--out-dir'.",
    ),
    (
        "bench train unknown model",
        "cli",
        ["bench", "train", "--model", "gan"],
        "error: Invalid value for '--model': 'gan' is not one of 'vae', 'beta-vae', 'dip-vae-i', 'dip-vae-ii', "
        "'svae', 'rbvae', 'srbvae'.",
    ),
    (
        "bench train size not a multiple of 16",
        "cli",
        ["bench", "train", "--budget", "tiny", "--image-size", "24"],
        "error: --image-size must be a positive multiple of 16, got 24",
    ),
    (
        "bench train size not a number",
        "cli",
        ["bench", "train", "--budget", "tiny", "--image-size", "big"],
        "error: --image-size takes comma-separated int values, got 'big'",
    ),
    (
        "bench train width 0",
        "cli",
        ["bench", "train", "--budget", "tiny", "--width", "0"],
        "error: --width values must be > 0, got [0.0]",
    ),
    (
        "process: unknown model",
        "proc",
        [*FIT, "--model", "gan"],
        "error: Invalid value for '--model': 'gan' is not one of 'vae', 'beta-vae', 'dip-vae-i', 'dip-vae-ii', "
        "'svae', 'rbvae', 'srbvae'.",
    ),
    (
        "process: npz with pickled objects",
        "proc",
        [*FIT, "--mnist", "{d}/mnist_pickle.npz"],
        "error: cannot read MNIST file {d}/mnist_pickle.npz: Object arrays cannot be loaded when allow_pickle=False",
    ),
    (
        "ORT: export folder without metadata.json",
        "ort",
        [
            "onnx_transfer.py",
            "{d}/export_no_metadata",
            "--content",
            "{d}/good/0.png",
            "--style",
            "{d}/good/1.png",
            "--out",
            "{out}",
        ],
        "error: {d}/export_no_metadata has no metadata.json; is it a `python cli.py export` folder?",
    ),
    (
        "ORT: corrupt PNG",
        "ort",
        [
            "onnx_transfer.py",
            "{d}/export",
            "--content",
            "{d}/corrupt.png",
            "--style",
            "{d}/good/1.png",
            "--out",
            "{out}",
        ],
        "error: not a readable image: {d}/corrupt.png (...)",
    ),
    (
        "ORT: truncated JPEG",
        "ort",
        [
            "onnx_transfer.py",
            "{d}/export",
            "--content",
            "{d}/good/0.png",
            "--style",
            "{d}/truncated.jpg",
            "--out",
            "{out}",
        ],
        "error: not a readable image: {d}/truncated.jpg (...)",
    ),
    (
        "ORT: a folder where an image is expected",
        "ort",
        ["onnx_generate.py", "{d}/export", "--image", "{d}/good", "--out", "{out}"],
        "error: image not found: {d}/good",
    ),
    (
        "ORT: output in a read-only place",
        "ort",
        [
            "onnx_transfer.py",
            "{d}/export",
            "--content",
            "{d}/good/0.png",
            "--style",
            "{d}/good/1.png",
            "--out",
            "{d}/good/0.png/x.png",
        ],
        "error: cannot write {d}/good/0.png/x.png: ...",
    ),
    (
        "ORT: images of the wrong size for the graph",
        "ort-api",
        (wrong_shape(3, size=32), "{d}/export"),
        "error: content must have shape (S, S, 3) or (B, S, S, 3) with S = 16, got (1, 32, 32, 3)",
    ),
    (
        "ORT: images with the wrong channels for the graph",
        "ort-api",
        (wrong_shape(1), "{d}/export"),
        "error: content must have shape (S, S, 3) or (B, S, S, 3) with S = 16, got (1, 16, 16, 1)",
    ),
]


def fill(text, d, out, run):
    return str(text).format(d=d, out=out, run=run)


def invoke(kind, args, capsys):
    """(exit status, stderr) of one row."""
    if kind == "cli":
        result = CliRunner().invoke(cli, args)
        assert result.stdout == "", result.stdout
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise result.exception  # a traceback: show it
        return result.exit_code, result.stderr
    if kind == "ort-api":
        main, argv = args
        with pytest.raises(SystemExit) as exited:
            run_main(main, [argv])
        return exited.value.code, capsys.readouterr().err
    command = [sys.executable, "cli.py", *args] if kind == "proc" else [sys.executable, f"export/{args[0]}", *args[1:]]
    done = subprocess.run(
        command, cwd=REPO, capture_output=True, text=True, timeout=300, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    )
    return done.returncode, done.stderr


@pytest.mark.parametrize("kind, args, expected", [row[1:] for row in ROWS], ids=[row[0] for row in ROWS])
def test_bad_input_is_one_error_line_with_status_2(kind, args, expected, d, tmp_path, capsys):
    out, run = tmp_path / "out.png", tmp_path / "run"
    out.write_bytes(ORIGINAL)
    run.mkdir()
    (run / "keep.txt").write_bytes(ORIGINAL)
    if kind == "ort-api":
        args = (args[0], fill(args[1], d, out, run))
    else:
        args = [fill(a, d, out, run) for a in args]
    status, stderr = invoke(kind, args, capsys)
    assert "Traceback" not in stderr, stderr
    assert stderr.endswith("\n") and stderr.count("\n") == 1, stderr
    line, expected = stderr.rstrip("\n"), fill(expected, d, out, run)
    if expected.endswith("..."):
        assert line.startswith(expected[:-3]), line
    elif expected.endswith("(...)"):
        assert line.startswith(expected[:-5]) and line.endswith(")"), line
    else:
        assert line == expected
    assert status == 2, stderr
    assert out.read_bytes() == ORIGINAL
    assert sorted(p.name for p in run.iterdir()) == ["keep.txt"] and (run / "keep.txt").read_bytes() == ORIGINAL
    assert not (d / "unpickled").exists()  # nothing was unpickled


def test_the_matrix_has_at_least_25_rows_across_cli_and_ort():
    kinds = [row[1] for row in ROWS]
    assert len(ROWS) >= 25 and {"cli", "proc", "ort", "ort-api"} <= set(kinds)


def test_loaders_keep_keras_safe_mode_and_never_unpickle():
    source = (REPO / "rbvae_tf" / "loading.py").read_text()
    assert "safe_mode=True" in source and "safe_mode=False" not in source
    for path in [*REPO.glob("rbvae_tf/**/*.py"), *REPO.glob("export/*.py"), REPO / "cli.py"]:
        text = path.read_text()
        assert "allow_pickle=True" not in text and "import pickle" not in text, path
        for line in text.splitlines():
            if "np.load(" in line:
                assert "allow_pickle=False" in line, (path, line)

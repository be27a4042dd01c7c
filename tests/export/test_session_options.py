"""The ONNX scripts' session options: the measured rule `--threads auto`, its override, and the
`bench infer` summary that puts the shipped setting beside ORT's default."""

import numpy as np
import pytest
from PIL import Image

from export import onnx_generate, onnx_transfer, ort_common
from export.ort_common import InputError
from tests.export import REPO, real_looking_images

BUNDLED = REPO / "zoo" / "srbvae-mnist-cpu" / "export"


@pytest.mark.parametrize(
    "threads, cpus, batch, intra, spinning, description",
    [
        ("auto", 2, 1, 1, None, "intra_op_num_threads=1 (auto: batch 1)"),
        ("auto", 2, 64, 2, "0", "intra_op_num_threads=2, no spin-wait (auto: batch > 1)"),
        ("auto", 1, 64, 1, None, "intra_op_num_threads=1 (auto: batch 1)"),
        ("auto", 16, 1, 0, None, "ORT default threads (auto: > 2 CPUs)"),
        ("default", 2, 1, 0, None, "ORT default threads"),
        ("3", 2, 64, 3, None, "intra_op_num_threads=3"),
        (2, 16, 1, 2, None, "intra_op_num_threads=2"),
    ],
)
def test_session_options_rule_and_override(threads, cpus, batch, intra, spinning, description):
    options, said = ort_common.session_options(threads, cpus=cpus, batch=batch)
    assert options.intra_op_num_threads == intra and said == description
    try:
        spins = options.get_session_config_entry("session.intra_op.allow_spinning")
    except RuntimeError:  # not set: ORT's default, spin-waiting on
        spins = None
    assert spins == spinning


@pytest.mark.parametrize("value", ["0", "-2", "two", "", None])
def test_bad_threads_are_input_errors(value):
    with pytest.raises(InputError, match="^threads must be auto, default or a positive integer, got "):
        ort_common.parse_threads(value)


@pytest.fixture(scope="module")
def pictures(tmp_path_factory):
    if not (BUNDLED / "onnx" / "transfer.onnx").exists():
        pytest.skip("no bundled export")
    folder = tmp_path_factory.mktemp("threads")
    images = ((real_looking_images(2, size=32, seed=9) + 1) * 127.5).round().astype(np.uint8)
    for name, image in zip(("content", "style"), images):
        Image.fromarray(image).save(folder / f"{name}.png")
    return folder


def run(script, argv, capsys):
    with pytest.raises(SystemExit) as exited:
        ort_common.run_main(script.main, [str(a) for a in argv])
        raise SystemExit(0)
    return exited.value.code, capsys.readouterr()


def test_transfer_script_names_its_setting_and_results_do_not_depend_on_it(pictures, tmp_path, capsys):
    outputs = {}
    for threads, setting in (
        ("auto", ort_common.session_options("auto")[1]),
        ("default", "ORT default threads"),
        ("2", "intra_op_num_threads=2"),
    ):
        out = tmp_path / f"{threads}.png"
        code, said = run(
            onnx_transfer,
            [
                BUNDLED,
                "--content",
                pictures / "content.png",
                "--style",
                pictures / "style.png",
                "--out",
                out,
                "--provider",
                "cpu",
                "--threads",
                threads,
            ],
            capsys,
        )
        assert code == 0 and said.out == f"wrote {out} (32x32, CPUExecutionProvider, {setting})\n"
        outputs[threads] = np.asarray(Image.open(out)).astype(int)
    assert np.abs(outputs["auto"] - outputs["default"]).max() <= 1 and np.abs(outputs["auto"] - outputs["2"]).max() <= 1


@pytest.mark.parametrize(
    "script, args",
    [
        (onnx_transfer, ["--content", "content.png", "--style", "style.png", "--out", "x.png"]),
        (onnx_generate, ["--image", "content.png", "--out", "x.png"]),
    ],
)
def test_scripts_reject_bad_threads_with_one_line(pictures, tmp_path, capsys, script, args):
    argv = [
        BUNDLED,
        *[
            pictures / a if a in ("content.png", "style.png") else tmp_path / a if a.endswith(".png") else a
            for a in args
        ],
        "--threads",
        "0",
    ]
    code, said = run(script, argv, capsys)
    assert code == 2 and said.err == "error: threads must be auto, default or a positive integer, got '0'\n"
    assert not (tmp_path / "x.png").exists()


def test_bench_summary_puts_shipped_beside_default():
    from export.bench_infer import DEFAULT, SHIPPED, _onnx_summary

    def row(settings, batch, median):
        return {"runtime": "ONNX Runtime", "settings": settings, "batch": batch, "median_ms": median}

    rows = [
        {"runtime": "Keras", "settings": "eager", "batch": 1, "median_ms": 0.5},
        row(DEFAULT, 1, 3.0),
        row(SHIPPED, 1, 2.0),
        row("NCHW", 1, 1.5),
        row(DEFAULT, 64, 80.0),
        row(SHIPPED, 64, 60.0),
    ]
    one, many = (ort_common.session_options("auto", batch=b)[1] for b in (1, 64))
    assert _onnx_summary(rows).splitlines() == [
        "",
        f"- batch 1: shipped session ({one}) median 2.00 ms vs ORT default 3.00 ms (1.50x); "
        "fastest ONNX Runtime row: NCHW, 1.50 ms",
        f"- batch 64: shipped session ({many}) median 60.00 ms vs ORT default 80.00 ms (1.33x); "
        f"fastest ONNX Runtime row: {SHIPPED}, 60.00 ms",
    ]

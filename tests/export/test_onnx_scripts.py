"""The ONNX Runtime scripts of export/: end to end on the tiny export, array API, errors, no TF."""

import json
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from export import onnx_generate, onnx_transfer, ort_common
from export.ort_common import InputError
from tests.export import REPO, TOLERANCE, max_diff, random_images, real_looking_images, tiny_srbvae_export


@pytest.fixture(scope="module")
def srb(tmp_path_factory):
    model, export_dir, result = tiny_srbvae_export(str(tmp_path_factory.getbasetemp() / "srb"))
    assert result.exit_code == 0, result.output
    return model, export_dir


@pytest.fixture(scope="module")
def pictures(tmp_path_factory):
    """Two larger, non-square PNGs (content, style), a greyscale one and a text file named .png."""
    folder = tmp_path_factory.mktemp("pictures")
    big = ((real_looking_images(2, size=48) + 1) * 127.5).round().astype(np.uint8)
    Image.fromarray(np.pad(big[0], ((0, 0), (8, 8), (0, 0)), mode="edge")).save(folder / "content.png")
    Image.fromarray(big[1][4:44]).save(folder / "style.png")
    Image.fromarray(big[1][..., 0]).save(folder / "grey.png")
    (folder / "notes.png").write_text("not an image")
    return folder


def run_script(name, *args):
    return subprocess.run(
        [sys.executable, str(REPO / "export" / name), *map(str, args)], capture_output=True, text=True, timeout=120
    )


def keras_uint8(images):
    return ort_common.to_uint8(np.asarray(images))


# --- end to end --------------------------------------------------------------------------------


def test_transfer_script_matches_keras(srb, pictures, tmp_path):
    model, export_dir = srb
    out = tmp_path / "transfer.png"
    done = run_script(
        "onnx_transfer.py",
        export_dir,
        "--content",
        pictures / "content.png",
        "--style",
        pictures / "style.png",
        "--out",
        out,
        "--provider",
        "cpu",
    )
    assert done.returncode == 0, done.stderr
    written = np.asarray(Image.open(out))
    assert written.shape == (16, 16, 3)
    content = ort_common.load_image(pictures / "content.png", 16)[None]
    style = ort_common.load_image(pictures / "style.png", 16)[None]
    expected = keras_uint8(model.transfer(content, style))[0]
    assert np.abs(written.astype(int) - expected).max() <= 1  # float differences of 1e-6 may round apart


def test_generate_script_writes_input_reference_and_samples(srb, pictures, tmp_path):
    model, export_dir = srb
    out = tmp_path / "grid.png"
    done = run_script(
        "onnx_generate.py", export_dir, "--image", pictures / "grey.png", "--n", 3, "--out", out, "--seed", 5
    )
    assert done.returncode == 0, done.stderr
    grid = np.asarray(Image.open(out)).astype(int)
    assert grid.shape == (18, 5 * 17 + 1, 3)
    tiles = [grid[1:17, 1 + 17 * k : 17 + 17 * k] for k in range(5)]
    image = ort_common.load_image(pictures / "grey.png", 16)[None]
    z = np.asarray(model.encode_common(image)["mean"])
    e = np.random.default_rng(5).standard_normal((3, 4)).astype(np.float32)
    expected = [
        keras_uint8(image)[0],
        keras_uint8(model.reconstruct_reference(image))[0],
        *keras_uint8(model.generate(np.repeat(z, 3, 0), e)),
    ]
    for tile, want in zip(tiles, expected):
        assert np.abs(tile - want).max() <= 1


def test_array_api_equals_keras(srb):
    model, export_dir = srb
    content, style = real_looking_images(3, seed=1), random_images(3, seed=2)
    assert (
        max_diff(onnx_transfer.transfer(export_dir, content, style, provider="cpu"), model.transfer(content, style))
        <= TOLERANCE
    )
    tiles = onnx_generate.generate(export_dir, content[0], n=2, seed=0, provider="cpu")
    e = np.random.default_rng(0).standard_normal((2, 4)).astype(np.float32)
    z = np.repeat(np.asarray(model.encode_common(content[:1])["mean"]), 2, 0)
    assert tiles.shape == (4, 16, 16, 3) and max_diff(tiles[0], content[0]) == 0
    assert max_diff(tiles[1], model.reconstruct_reference(content[:1])[0]) <= TOLERANCE
    assert max_diff(tiles[2:], model.generate(z, e)) <= TOLERANCE


@pytest.mark.parametrize(
    "content, message",
    [
        (np.zeros((16, 16, 3), np.uint8), "dtype uint8"),
        (np.zeros((16, 16), np.float32), "must have shape"),
        (np.zeros((2, 32, 32, 3), np.float32), "must have shape"),
        (np.full((16, 16, 3), 255.0, np.float32), "in \\[-1, 1\\]"),
        (np.full((16, 16, 3), np.nan, np.float32), "finite"),
    ],
)
def test_array_api_rejects_bad_arrays(srb, content, message):
    with pytest.raises(InputError, match=message):
        onnx_transfer.transfer(srb[1], content, np.zeros((16, 16, 3), np.float32))


def test_array_api_rejects_mismatched_batches(srb):
    with pytest.raises(InputError, match="same shape"):
        onnx_transfer.transfer(srb[1], random_images(2), random_images(3))


# --- errors: one line `error: ...`, exit status 2 ------------------------------------------------


def run_in_process(script, argv, capsys):
    """Runs a script's main like its command line does; returns (exit status, stderr)."""
    with pytest.raises(SystemExit) as exited:
        ort_common.run_main(script.main, [str(a) for a in argv])
    return exited.value.code, capsys.readouterr().err


@pytest.mark.parametrize(
    "case, message",
    [
        ("missing image", "error: image not found:"),
        ("not an image", "error: not a readable image:"),
        ("missing dir", "error: no export folder at"),
        ("no metadata", "has no metadata.json"),
        ("missing option", "error: the following arguments are required: --style"),
        ("unsupervised", "error: transfer needs an export of a reference-based model"),
    ],
)
def test_transfer_errors(srb, pictures, tmp_path, capsys, case, message):
    export_dir, picture = srb[1], pictures / "content.png"
    args = ["--content", picture, "--style", picture, "--out", tmp_path / "out.png"]
    if case == "missing image":
        args[3] = tmp_path / "nope.png"
    elif case == "not an image":
        args[3] = pictures / "notes.png"
    elif case == "missing dir":
        export_dir = tmp_path / "nowhere"
    elif case == "no metadata":
        export_dir = tmp_path
    elif case == "missing option":
        args = args[:2]
    elif case == "unsupervised":
        (tmp_path / "metadata.json").write_text(
            json.dumps(
                {
                    "image_size": 16,
                    "target_dim": 4,
                    "common_dim": 4,
                    "reference_target": None,
                    "model": "vae",
                    "files": {"saved_model": "saved_model", "onnx": {"onnx/encoder.onnx": "encode"}},
                }
            )
        )
        export_dir = tmp_path
    status, stderr = run_in_process(onnx_transfer, [export_dir, *args], capsys)
    assert status == 2
    assert len(stderr.strip().splitlines()) == 1 and stderr.startswith("error: ") and message in stderr
    assert not (tmp_path / "out.png").exists()


def test_generate_errors(srb, pictures, tmp_path, capsys):
    for args, message in [
        ([srb[1], "--image", tmp_path / "nope.png"], "error: image not found"),
        ([srb[1], "--image", pictures / "notes.png"], "error: not a readable image"),
        ([srb[1], "--image", pictures / "grey.png", "--n", "-1"], "error: --n must be >= 0"),
        ([tmp_path / "missing", "--image", pictures / "grey.png"], "error: no export folder at"),
    ]:
        status, stderr = run_in_process(onnx_generate, [*args, "--out", tmp_path / "grid.png"], capsys)
        assert status == 2 and len(stderr.strip().splitlines()) == 1 and stderr.startswith(message), stderr


@pytest.mark.parametrize(
    "script, args",
    [
        ("onnx_transfer.py", ["--content", "nope.png", "--style", "nope.png", "--out", "c.png"]),
        ("onnx_generate.py", ["--image", "nope.png", "--out", "grid.png"]),
    ],
)
def test_script_process_exits_2_with_one_line(srb, tmp_path, script, args):
    done = run_script(script, srb[1], *[tmp_path / a if a.endswith(".png") else a for a in args])
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.strip().splitlines() == [f"error: image not found: {tmp_path / 'nope.png'}"]


def test_missing_onnx_graph_is_an_input_error(srb, tmp_path):
    (tmp_path / "metadata.json").write_text((srb[1] / "metadata.json").read_text())
    with pytest.raises(InputError, match="no ONNX graph 'transfer'"):
        ort_common.load_session(tmp_path, "transfer")


# --- no TensorFlow, providers, preprocessing -----------------------------------------------------


def test_scripts_never_import_tensorflow(srb, pictures, tmp_path):
    code = f"""
import runpy, sys
sys.argv = ["onnx_transfer.py", {str(srb[1])!r}, "--content", {str(pictures / "content.png")!r},
            "--style", {str(pictures / "style.png")!r}, "--out", {str(tmp_path / "a.png")!r}]
runpy.run_path({str(REPO / "export" / "onnx_transfer.py")!r}, run_name="__main__")
sys.argv = ["onnx_generate.py", {str(srb[1])!r}, "--image", {str(pictures / "grey.png")!r}, "--out",
            {str(tmp_path / "b.png")!r}]
runpy.run_path({str(REPO / "export" / "onnx_generate.py")!r}, run_name="__main__")
import export.onnx_transfer, export.onnx_generate, export.ort_common
assert "tensorflow" not in sys.modules and "keras" not in sys.modules, "tensorflow was imported"
print("ok")
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=120)
    assert done.returncode == 0 and done.stdout.strip().endswith("ok"), done.stderr
    assert (tmp_path / "a.png").exists() and (tmp_path / "b.png").exists()


def test_provider_choice():
    import onnxruntime as ort

    assert ort_common.pick_providers("cpu") == ["CPUExecutionProvider"]
    auto = ort_common.pick_providers("auto")
    assert auto[-1] == "CPUExecutionProvider"
    assert ("CUDAExecutionProvider" in auto) == ("CUDAExecutionProvider" in ort.get_available_providers())
    if "CUDAExecutionProvider" not in ort.get_available_providers():
        with pytest.raises(InputError, match="onnxruntime-gpu"):
            ort_common.pick_providers("cuda")


def test_load_image_crops_the_centre_square_and_area_resizes(tmp_path):
    wide = np.zeros((32, 64, 3), np.uint8)
    wide[:, 16:48] = (0, 0, 255)  # the centre square is blue, the sides red
    wide[:, :16] = wide[:, 48:] = (255, 0, 0)
    wide[::2, 16:48:2] = (0, 0, 253)  # a fine pattern that an area resize averages out
    Image.fromarray(wide).save(tmp_path / "wide.png")
    image = ort_common.load_image(tmp_path / "wide.png", 16)
    assert image.shape == (16, 16, 3) and image.dtype == np.float32
    np.testing.assert_allclose(image[..., :2], -1)
    np.testing.assert_allclose(image[..., 2], np.rint((3 * 255 + 253) / 4) / 127.5 - 1, atol=1e-6)
    assert ort_common.area_matrix(4, 2).tolist() == [[0.5, 0.5, 0.0, 0.0], [0.0, 0.0, 0.5, 0.5]]


def test_bundled_zoo_export_matches_its_weights():
    """The ONNX graphs shipped in zoo/srbvae-mnist-cpu/export come from the weights shipped next to them."""
    from rbvae_tf.loading import ZOO, load_trained

    export_dir = ZOO / "srbvae-mnist-cpu" / "export"
    if not (export_dir / "onnx" / "transfer.onnx").exists():
        pytest.skip("no bundled export")
    model, _ = load_trained("srbvae-mnist-cpu")
    content = real_looking_images(3, size=model.image_size, seed=3)
    style = real_looking_images(3, size=model.image_size, seed=4)
    assert (
        max_diff(onnx_transfer.transfer(export_dir, content, style, provider="cpu"), model.transfer(content, style))
        <= TOLERANCE
    )
    metadata = json.loads((export_dir / "metadata.json").read_text())
    np.testing.assert_allclose(metadata["reference_target"], model.reference_target.numpy(), rtol=1e-6)

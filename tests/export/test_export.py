"""`python cli.py export`: SavedModel and ONNX graphs equal the Keras model; metadata; atomic writes."""

import json
import re

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import tensorflow as tf
from click.testing import CliRunner

import cli
from export import artifacts, export_model
from rbvae_tf.errors import UserError
from rbvae_tf.models import build_model
from tests.export import TINY, TOLERANCE, max_diff, random_images, real_looking_images, tiny_srbvae_export

E, Z = TINY["target_dim"], TINY["common_dim"]

# The Keras answer of every signature, straight from the LatentModel API.
KERAS = {
    "transfer": lambda m, content, style: {"images": m.transfer(content, style)},
    "encode_target": lambda m, images: m.encode_target(images),
    "encode_common": lambda m, images: m.encode_common(images),
    "generate": lambda m, *latents: {"images": m.generate(*latents)},
    "reconstruct_reference": lambda m, images: {"images": m.reconstruct_reference(images)},
    "encode": lambda m, images: m.encode(images),
}
RB_SIGNATURES = {  # signature -> input names
    "transfer": ("content", "style"),
    "encode_target": ("images",),
    "encode_common": ("images",),
    "generate": ("z", "e"),
    "reconstruct_reference": ("images",),
}
RB_ONNX = {"transfer": "transfer", "encoder_e": "encode_target", "encoder_z": "encode_common", "generator": "generate"}


def make_inputs(names, batch, kind, latent_dims):
    """Inputs of a signature: images random or MNIST-style, latents standard normal."""
    out = []
    for k, name in enumerate(names):
        if name in latent_dims:
            out.append(np.random.default_rng(k).standard_normal((batch, latent_dims[name])).astype(np.float32))
        elif kind == "random":
            out.append(random_images(batch, seed=k))
        else:
            out.append(real_looking_images(batch, seed=k))
    return out


def keras_outputs(model, signature, inputs):
    return {k: np.asarray(v) for k, v in KERAS[signature](model, *inputs).items()}


@pytest.fixture(scope="module")
def srb(tmp_path_factory):
    model, export_dir, result = tiny_srbvae_export(str(tmp_path_factory.getbasetemp() / "srb"))
    assert result.exit_code == 0, result.output
    return model, export_dir, result


@pytest.fixture(scope="module")
def saved(srb):
    return tf.saved_model.load(str(srb[1] / "saved_model"))


@pytest.fixture(scope="module")
def vae(tmp_path_factory):
    model = build_model("vae", **TINY)
    out = tmp_path_factory.mktemp("vae") / "export"
    metadata = export_model(model, None, out, onnx=True, verify=False)  # the tests below check parity
    return model, out, metadata


# --- CLI and files ------------------------------------------------------------------------------


def test_cli_defaults_pick_latest_run_and_exports_dir(srb):
    _, export_dir, result = srb
    assert "most recently finished run" in result.output and "tiny-run" in result.output
    assert export_dir.is_dir() and (export_dir / "saved_model" / "saved_model.pb").exists()
    assert sorted(p.name for p in (export_dir / "onnx").iterdir()) == sorted(f"{n}.onnx" for n in RB_ONNX)
    assert [p.name for p in export_dir.parent.iterdir()] == ["tiny-run"]  # no staging folder left


def test_metadata(srb):
    model, export_dir, _ = srb
    metadata = json.loads((export_dir / "metadata.json").read_text())
    assert {
        k: metadata[k]
        for k in (
            "image_size",
            "channels",
            "value_range",
            "target_dim",
            "common_dim",
            "model",
            "preset",
            "opset",
            "layout",
        )
    } == {
        "image_size": 16,
        "channels": 3,
        "value_range": [-1, 1],
        "target_dim": E,
        "common_dim": Z,
        "model": "srbvae",
        "preset": "tiny",
        "opset": 17,
        "layout": "NHWC",
    }
    np.testing.assert_array_equal(np.asarray(metadata["reference_target"], np.float32), model.reference_target.numpy())
    assert metadata["source_commit"] is None or re.fullmatch(r"[0-9a-f]{40}", metadata["source_commit"])
    assert list(metadata["signatures"]) == list(RB_SIGNATURES)
    assert metadata["signatures"]["generate"] == {
        "inputs": {"z": [None, Z], "e": [None, E]},
        "outputs": {"images": [None, 16, 16, 3]},
    }
    assert metadata["files"]["onnx"] == {f"onnx/{name}.onnx": sig for name, sig in RB_ONNX.items()}
    assert max(metadata["parity"].values()) <= TOLERANCE


# --- parity ------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["random", "real"])
@pytest.mark.parametrize("batch", [1, 3])
@pytest.mark.parametrize("signature", list(RB_SIGNATURES))
def test_saved_model_parity(srb, saved, signature, batch, kind):
    model = srb[0]
    names = RB_SIGNATURES[signature]
    inputs = make_inputs(names, batch, kind, {"z": Z, "e": E})
    expected = keras_outputs(model, signature, inputs)
    actual = saved.signatures[signature](**{n: tf.constant(x) for n, x in zip(names, inputs)})
    assert sorted(actual) == sorted(expected)
    for key in expected:
        assert actual[key].shape[0] == batch
        assert max_diff(actual[key], expected[key]) <= TOLERANCE, key


@pytest.mark.parametrize("kind", ["random", "real"])
@pytest.mark.parametrize("batch", [1, 3])
@pytest.mark.parametrize("graph", list(RB_ONNX))
def test_onnx_parity(srb, graph, batch, kind):
    model, export_dir, _ = srb
    signature = RB_ONNX[graph]
    names = RB_SIGNATURES[signature]
    session = ort.InferenceSession(str(export_dir / "onnx" / f"{graph}.onnx"), providers=["CPUExecutionProvider"])
    assert [i.name for i in session.get_inputs()] == list(names)
    inputs = make_inputs(names, batch, kind, {"z": Z, "e": E})
    expected = keras_outputs(model, signature, inputs)
    outputs = [o.name for o in session.get_outputs()]
    assert sorted(outputs) == sorted(expected)
    for key, value in zip(outputs, session.run(outputs, dict(zip(names, inputs)))):
        assert value.shape[0] == batch
        assert max_diff(value, expected[key]) <= TOLERANCE, key


def test_onnx_files_check_and_carry_metadata(srb):
    model, export_dir, _ = srb
    for graph in RB_ONNX:
        proto = onnx.load(str(export_dir / "onnx" / f"{graph}.onnx"))
        onnx.checker.check_model(proto, full_check=True)
        assert {o.domain: o.version for o in proto.opset_import}[""] == 17
        for value in [*proto.graph.input, *proto.graph.output]:
            dims = value.type.tensor_type.shape.dim
            assert dims[0].dim_param == "batch" and not dims[0].dim_value, value.name
        props = {p.key: json.loads(p.value) for p in proto.metadata_props}
        assert props["image_size"] == 16 and props["value_range"] == [-1, 1] and props["model"] == "srbvae"
        assert (props["target_dim"], props["common_dim"], props["graph"]) == (E, Z, graph)
        np.testing.assert_array_equal(np.asarray(props["reference_target"], np.float32), model.reference_target.numpy())


# --- unsupervised models -----------------------------------------------------------------------


def test_unsupervised_export_has_encode_and_generate_only(vae):
    model, out, metadata = vae
    saved = tf.saved_model.load(str(out / "saved_model"))
    assert set(saved.signatures) == {"encode", "generate", "serving_default"}
    assert metadata["reference_target"] is None and metadata["model"] == "vae"
    assert sorted(p.name for p in (out / "onnx").iterdir()) == ["encoder.onnx", "generator.onnx"]
    for batch in (1, 3):
        images = real_looking_images(batch)
        z = np.random.default_rng(batch).standard_normal((batch, E + Z)).astype(np.float32)
        for signature, graph, names, inputs in (
            ("encode", "encoder", ("images",), [images]),
            ("generate", "generator", ("z",), [z]),
        ):
            expected = keras_outputs(model, signature, inputs)
            got = saved.signatures[signature](**{n: tf.constant(x) for n, x in zip(names, inputs)})
            session = ort.InferenceSession(str(out / "onnx" / f"{graph}.onnx"), providers=["CPUExecutionProvider"])
            outputs = [o.name for o in session.get_outputs()]
            onnx_got = dict(zip(outputs, session.run(outputs, dict(zip(names, inputs)))))
            assert sorted(got) == sorted(onnx_got) == sorted(expected)
            for key in expected:
                assert max_diff(got[key], expected[key]) <= TOLERANCE
                assert max_diff(onnx_got[key], expected[key]) <= TOLERANCE


# --- atomic writes and errors (no real export: fast) ---------------------------------------------


def test_failed_export_leaves_previous_export_untouched(tmp_path, monkeypatch):
    out = tmp_path / "exports" / "run"
    out.mkdir(parents=True)
    (out / "metadata.json").write_text('{"old": true}')

    def broken(model, path, graphs=None):
        (path / "saved_model.pb").parent.mkdir(parents=True)
        (path / "saved_model.pb").write_text("half")
        raise RuntimeError("disk full")

    monkeypatch.setattr(artifacts, "write_saved_model", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        export_model(build_model("vae", **TINY), None, out)
    assert (out / "metadata.json").read_text() == '{"old": true}' and len(list(out.iterdir())) == 1
    assert [p.name for p in out.parent.iterdir()] == ["run"]


def test_export_replaces_an_earlier_export(tmp_path, monkeypatch):
    out = tmp_path / "run"
    out.mkdir()
    (out / "metadata.json").write_text("{}")
    (out / "stale.onnx").write_text("old")
    monkeypatch.setattr(artifacts, "write_saved_model", lambda model, path, graphs=None: path.mkdir())
    metadata = export_model(build_model("vae", **TINY), None, out, verify=False)
    assert sorted(p.name for p in out.iterdir()) == ["metadata.json", "saved_model"]
    assert json.loads((out / "metadata.json").read_text()) == metadata
    assert [p.name for p in tmp_path.iterdir()] == ["run"]


def test_export_refuses_to_replace_a_folder_that_is_not_an_export(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(UserError, match="refusing to replace"):
        export_model(build_model("vae", **TINY), None, tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]


def test_cli_errors_are_one_line_with_status_2(tmp_path, monkeypatch, srb):
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    no_runs = runner.invoke(cli.cli, ["export"])
    assert no_runs.exit_code == 2 and no_runs.output.startswith("error: no finished run under runs/")
    missing = runner.invoke(cli.cli, ["export", "no-such-run"])
    assert missing.exit_code == 2 and missing.output.startswith("error: no model at 'no-such-run'")
    run = srb[1].parents[1] / "runs" / "tiny-run"
    opset = runner.invoke(cli.cli, ["export", str(run), "--onnx", "--opset", "9", "--out-dir", "x"])
    assert opset.exit_code == 2 and opset.output.strip() == "error: --opset must be between 13 and 18, got 9"
    assert not (tmp_path / "x").exists()


def test_metadata_source_is_relative_below_the_working_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert artifacts._relative(tmp_path / "zoo" / "preset") == "zoo/preset"
    assert artifacts._relative("/elsewhere/run") == "/elsewhere/run"
    assert artifacts._relative(None) is None

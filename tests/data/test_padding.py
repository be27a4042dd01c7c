"""Where a shrunk digit sits in its zero padding (App. C.1): centre (the default) or the top-left corner,
through the renderer, the build, its meta.json and cache key, FitConfig, the run's data and the CLI."""

import json

import numpy as np
import pytest

from rbvae_tf.config import FitConfig
from rbvae_tf.data import mnist_style, render, store
from rbvae_tf.data.mnist import load_mnist
from rbvae_tf.errors import UserError

LIMIT = 200


@pytest.fixture(scope="module")
def builds():
    mnist = load_mnist()
    return {
        padding: mnist_style.build_mnist_style(mnist, size=32, limit=LIMIT, padding=padding)
        for padding in ("centre", "corner")
    }


def test_corner_matrices_keep_the_top_left_and_centre_ones_the_middle():
    corner = render.area_matrices(64, 64, [0.5], anchor=0.0)[0]
    centre = render.area_matrices(64, 64, [0.5])[0]
    np.testing.assert_array_equal(corner.sum(axis=1), [1.0] * 32 + [0.0] * 32)  # rows 32.. are padding
    np.testing.assert_array_equal(centre.sum(axis=1), [0.0] * 16 + [1.0] * 32 + [0.0] * 16)
    np.testing.assert_array_equal(corner[0, :3], [0.5, 0.5, 0.0])  # output pixel i averages input pixels 2i, 2i+1
    np.testing.assert_array_equal(corner[31, 61:], [0.0, 0.5, 0.5])
    # a plain resize (s = n_out / n_in) has no padding, so the anchor does not matter
    np.testing.assert_array_equal(render.area_matrices(64, 32, [0.5], 0.0), render.area_matrices(64, 32, [0.5]))


def test_corner_digits_are_the_centred_ones_moved_to_the_top_left():
    digits = load_mnist()["x_test"][:6]
    scales, widths, white = np.linspace(0.5, 1.0, 6), [3] * 6, np.ones((6, 3))
    centre = render.render_digits(digits, white, scales, widths, 64).astype(float)
    corner = render.render_digits(digits, white, scales, widths, 64, padding="corner").astype(float)
    for c, k, s in zip(centre, corner, scales):
        side = int(np.ceil(64 * s))
        assert k[side:].sum() == 0 and k[:, side:].sum() == 0  # nothing below or right of the shrunk square
        assert abs(k.sum() - c.sum()) < 0.01 * c.sum()  # the same ink, moved
    np.testing.assert_array_equal(corner[-1], centre[-1])  # scale 1: no padding to place


def test_corner_build_moves_the_digit_with_its_scale_and_leaves_the_rest(builds):
    centre, corner = builds["centre"], builds["corner"]
    for name in centre:
        np.testing.assert_array_equal(corner[name]["factors"], centre[name]["factors"])
        np.testing.assert_array_equal(corner[name]["labels"], centre[name]["labels"])
    np.testing.assert_array_equal(corner["reference"]["images"], centre["reference"]["images"])  # full size

    def centre_of_ink(images):
        ink = images.astype(float).sum(axis=-1)
        rows = np.arange(ink.shape[1])[None, :, None]
        return (ink * rows).sum(axis=(1, 2)) / ink.sum(axis=(1, 2))

    scale = corner["unlabelled"]["factors"][:, 3]
    assert np.corrcoef(centre_of_ink(corner["unlabelled"]["images"]), scale)[0, 1] > 0.8
    assert abs(np.corrcoef(centre_of_ink(centre["unlabelled"]["images"]), scale)[0, 1]) < 0.3


def test_build_arguments_name_the_padding_only_when_it_is_not_the_centre(tmp_path):
    centre = store.build_arguments(32, 0, 10, None)
    corner = store.build_arguments(32, 0, 10, None, padding="corner")
    assert "padding" not in centre and corner["padding"] == "corner"
    assert store.mnist_style_key(32, 0, 10)[0] != store.mnist_style_key(32, 0, 10, padding="corner")[0]
    assert store.mnist_style_key(32, 0, 10)[0] == store.mnist_style_key(32, 0, 10, padding="centre")[0]
    for meta, expected in ((centre, "centre"), (corner, "corner")):
        folder = tmp_path / expected
        folder.mkdir()
        (folder / "meta.json").write_text(json.dumps(meta))
        assert store.read_built(folder)["padding"] == expected


@pytest.mark.parametrize("bad", ["diagonal", "", None, 0.5])
def test_an_unknown_padding_is_refused(bad):
    with pytest.raises(UserError, match="padding must be one of centre, corner"):
        mnist_style.build_mnist_style(load_mnist(), size=16, limit=2, padding=bad)
    with pytest.raises(UserError, match="padding must be one of"):
        FitConfig(padding=bad)
    with pytest.raises(UserError, match="padding must be one of"):
        store.build_arguments(16, 0, 2, None, padding=bad)


def test_the_run_reads_and_evaluates_on_its_own_padding(monkeypatch):
    from rbvae_tf import data as data_lib
    from rbvae_tf import loading

    asked = []
    monkeypatch.setattr(data_lib, "cached_mnist_style", lambda **kwargs: asked.append(kwargs) or "folder")

    class Model:
        image_size = 32

    for fit, expected in (({"padding": "corner"}, "corner"), ({}, "centre"), ({"padding": "centre"}, "centre")):
        assert loading.mnist_style_source(Model(), {"fit": fit}) == ("folder", None)
        assert asked[-1]["padding"] == expected and loading.padding_of({"fit": fit}) == expected


def test_a_run_saved_without_the_padding_key_resumes(tmp_path):
    from rbvae_tf.training import resolve_run_dir

    config = FitConfig(preset="tiny")
    saved = json.loads(config.to_json())
    saved.pop("padding")
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "config.json").write_text(json.dumps({"fit": saved}))
    assert resolve_run_dir(tmp_path / "run", config) == (tmp_path / "run", True)
    with pytest.raises(UserError, match="other settings \\(padding\\)"):
        resolve_run_dir(tmp_path / "run", FitConfig(preset="tiny", padding="corner"))


def test_the_command_line_builds_either_padding_and_refuses_others(tmp_path):
    from click.testing import CliRunner

    from cli import cli

    def run(*args):
        return CliRunner().invoke(cli, [str(a) for a in args])

    built = tmp_path / "corner"
    result = run("data", "mnist-style", "--out-dir", built, "--image-size", 16, "--limit", 8, "--padding", "corner")
    assert result.exit_code == 0, result.output
    assert store.read_built(built)["padding"] == "corner"
    assert json.loads((built / "meta.json").read_text())["padding"] == "corner"

    (tmp_path / "keep").mkdir()
    for args in (
        ("data", "mnist-style", "--out-dir", tmp_path / "keep", "--padding", "diagonal"),
        ("fit", "--budget", "tiny", "--out-dir", tmp_path / "keep", "--padding", "diagonal"),
    ):
        result = run(*args)
        assert result.exit_code == 2 and result.stderr.count("\n") == 1, result.output
        assert result.stderr.startswith("error: Invalid value for '--padding'") and "Traceback" not in result.output
    result = run("fit", "--budget", "tiny", "--data", built, "--padding", "corner", "--out-dir", tmp_path / "keep")
    assert result.exit_code == 2 and result.stderr == (
        f"error: --padding describes how to build MNIST-style data, but --data {built} is built: "
        "its meta.json gives them\n"
    )
    assert list((tmp_path / "keep").iterdir()) == []

"""Conditional generation and attribute transfer against the model's own G, E and Z."""

import numpy as np
import pytest
from PIL import Image

from rbvae_tf import applications
from rbvae_tf.errors import UserError
from rbvae_tf.imaging import to_uint8
from rbvae_tf.models import build_model

S = 16
TINY = dict(image_size=S, width=0.125, target_dim=4, common_dim=4)


@pytest.fixture(scope="module")
def model():
    return build_model("rbvae", seed=1, **TINY)  # reference-based, quick to build


@pytest.fixture(scope="module")
def vae():
    return build_model("vae", **TINY)


@pytest.fixture(scope="module")
def images():
    return np.random.default_rng(0).uniform(-1, 1, (5, S, S, 3)).astype(np.float32)


def tile(grid, row, col, size=S, pad=1):
    top, left = pad + row * (size + pad), pad + col * (size + pad)
    return grid[top : top + size, left : left + size]


def test_transfer_is_g_of_content_z_and_style_e(model, images):
    content, style = images[:3], images[2:]
    expected = model.generate(model.encode_common(content)["mean"], model.encode_target(style)["mean"])
    result = applications.transfer(model, content, style)
    np.testing.assert_allclose(result, expected, atol=1e-5)
    swapped = model.generate(model.encode_common(style)["mean"], model.encode_target(content)["mean"])
    assert np.abs(result - np.asarray(swapped)).max() > 1e-2  # the check above can tell them apart


def test_transfer_takes_uint8_and_pairs_only_equal_counts(model, images):
    as_uint8 = to_uint8(images)
    result = applications.transfer(model, as_uint8[:2], as_uint8[3:])
    expected = applications.transfer(model, as_uint8[:2].astype(np.float32) / 127.5 - 1, as_uint8[3:] / 127.5 - 1)
    np.testing.assert_allclose(result, expected, atol=1e-5)
    with pytest.raises(UserError, match="pairs"):
        applications.transfer(model, images[:2], images[:3])
    with pytest.raises(UserError, match=r"shape \(N, 16, 16, 3\)"):
        applications.transfer(model, images[:, :8, :8], images[:, :8, :8])


def test_transfer_grid_layout(model, images):
    content, style = images[:2], images[2:5]
    grid = applications.transfer_grid(model, content, style)
    assert grid.shape == (3 * (S + 1) + 1, 4 * (S + 1) + 1, 3) and grid.dtype == np.uint8
    assert not tile(grid, 0, 0).any()  # blank corner
    for j in range(3):
        np.testing.assert_array_equal(tile(grid, 0, j + 1), to_uint8(style[j]))
    for i in range(2):
        np.testing.assert_array_equal(tile(grid, i + 1, 0), to_uint8(content[i]))
        for j in range(3):
            expected = to_uint8(applications.transfer(model, content[i : i + 1], style[j : j + 1])[0])
            assert np.abs(tile(grid, i + 1, j + 1).astype(int) - expected).max() <= 1


def test_conditional_generation_shares_e_down_columns(model, images):
    result = applications.conditional_generation(model, images[:3], num_targets=4, seed=7)
    assert result["samples"].shape == (3, 4, S, S, 3)
    np.testing.assert_allclose(result["reference"], model.reconstruct_reference(images[:3]), atol=1e-5)
    e = np.random.default_rng(7).standard_normal((4, TINY["target_dim"])).astype(np.float32)
    z = model.encode_common(images[:3])["mean"]
    for j in range(4):  # batches of another size: oneDNN may differ in the last digits
        expected = model.generate(z, np.repeat(e[j : j + 1], 3, axis=0))
        np.testing.assert_allclose(result["samples"][:, j], expected, atol=1e-4)
    other = applications.conditional_generation(model, images[:3], num_targets=4, seed=8)
    assert np.abs(other["samples"] - result["samples"]).max() > 1e-2


def test_conditional_grid_layout(model, images):
    grid = applications.conditional_grid(model, images[:3], num_targets=4, seed=0)
    assert grid.shape == (3 * (S + 1) + 1, 6 * (S + 1) + 1, 3)
    np.testing.assert_array_equal(tile(grid, 1, 0), to_uint8(images[1]))
    reference = to_uint8(np.asarray(model.reconstruct_reference(images[1:2]))[0])
    assert np.abs(tile(grid, 1, 1).astype(int) - reference).max() <= 1


@pytest.mark.parametrize(
    "call",
    [
        lambda m, x: applications.transfer(m, x, x),
        lambda m, x: applications.transfer_grid(m, x, x),
        lambda m, x: applications.conditional_grid(m, x),
    ],
)
def test_unsupervised_models_are_refused(vae, images, call):
    with pytest.raises(UserError, match="needs a model with an e/z split"):
        call(vae, images[:1])


def test_tile_scale():
    assert [applications.tile_scale(s) for s in (16, 32, 48, 64, 128)] == [4, 2, 2, 1, 1]


def test_write_transfer_single_pair_and_grid(model, images, tmp_path):
    files = []
    for i, image in enumerate(to_uint8(images[:3])):
        files.append(tmp_path / f"{i}.png")
        Image.fromarray(image).save(files[-1])
    path, what = applications.write_transfer(model, tmp_path / "one.png", [files[0]], [files[1]])
    assert what == "1 image"
    with Image.open(path) as written:
        assert written.size == (S, S) and written.mode == "RGB"
        expected = to_uint8(applications.transfer(model, to_uint8(images[:1]), to_uint8(images[1:2]))[0])
        assert np.abs(np.asarray(written).astype(int) - expected).max() <= 1
    path, what = applications.write_transfer(model, tmp_path / "grid.png", files[:2], files)
    assert what == "2 x 3 grid"
    with Image.open(path) as written:
        assert written.size == (4 * (4 * (S + 1) + 1), 4 * (3 * (S + 1) + 1))
    with pytest.raises(UserError, match="either --grid"):
        applications.write_transfer(model, tmp_path / "x.png", files[:1], files[:1], grid=2)
    with pytest.raises(UserError, match="at least one --content"):
        applications.write_transfer(model, tmp_path / "x.png", files[:1], ())


def test_split_pick_is_disjoint_and_seeded():
    images = np.arange(10).reshape(10, 1, 1, 1)
    content, style = applications.split_pick(images, 3, seed=1)
    assert len(content) == len(style) == 3 and not set(content.ravel()) & set(style.ravel())
    np.testing.assert_array_equal(content, applications.split_pick(images, 3, seed=1)[0])
    with pytest.raises(UserError, match="needs 12 images"):
        applications.split_pick(images, 6)

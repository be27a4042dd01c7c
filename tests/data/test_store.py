"""Split files, preview PNG and the build cache: round trips, atomic writes, no rebuilds."""

import numpy as np
import pytest
from PIL import Image

from rbvae_tf.data import store
from rbvae_tf.data.mnist import load_mnist
from rbvae_tf.data.mnist_style import build_mnist_style
from rbvae_tf.errors import UserError


@pytest.fixture(scope="module")
def splits():
    return build_mnist_style(load_mnist(), size=16, limit=40)


def test_write_and_load_round_trip(splits, tmp_path):
    written = store.write_mnist_style(tmp_path / "out", splits)
    assert [p.name for p in written] == [f"{name}.npz" for name in splits]
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(p.name for p in written)
    for name, split in splits.items():
        loaded = store.load_split(tmp_path / "out", name)
        assert loaded["factor_names"] == ["R", "G", "B", "scale", "width"]
        for key in ("images", "factors", "labels"):
            assert loaded[key].dtype == split[key].dtype
            np.testing.assert_array_equal(loaded[key], split[key])


def test_failed_write_keeps_existing_file(splits, tmp_path, monkeypatch):
    store.write_mnist_style(tmp_path, splits)
    before = (tmp_path / "reference.npz").read_bytes()

    def broken_savez(stream, **arrays):
        stream.write(b"half")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(store.np, "savez", broken_savez)
    with pytest.raises(UserError, match="No space left"):
        store.write_mnist_style(tmp_path, splits)
    assert (tmp_path / "reference.npz").read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(f"{name}.npz" for name in splits)


def test_load_split_errors(splits, tmp_path):
    with pytest.raises(UserError, match="missing probe_test.npz"):
        store.load_split(tmp_path, "probe_test")
    (tmp_path / "reference.npz").write_bytes(b"garbage")
    with pytest.raises(UserError, match="cannot read"):
        store.load_split(tmp_path, "reference")


def test_output_is_a_file(splits, tmp_path):
    (tmp_path / "file").write_text("keep")
    with pytest.raises(UserError, match="not a folder"):
        store.write_mnist_style(tmp_path / "file", splits)
    assert (tmp_path / "file").read_text() == "keep"


def test_preview(splits, tmp_path):
    path = store.preview_png(splits, tmp_path / "preview.png")
    with Image.open(path) as image:
        assert image.format == "PNG" and image.mode == "RGB"
        # 16 px tiles are shown at 64 px: 10 columns, 3 + 3 rows and a separating band.
        assert image.size[0] == 640 and image.size[1] > 6 * 64
        pixels = np.asarray(image)
    assert (pixels[: 3 * 64, ..., 0] == pixels[: 3 * 64, ..., 2]).all()  # grey reference rows
    assert (pixels[-3 * 64 :, ..., 0] != pixels[-3 * 64 :, ..., 2]).any()  # coloured rows


def test_cache_builds_once(tmp_path, monkeypatch):
    monkeypatch.setenv("RBVAE_CACHE", str(tmp_path))
    folder = store.cached_mnist_style(size=16, seed=3, limit=10)
    assert folder.parent == tmp_path / "mnist_style"
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        ["meta.json", "reference.npz", "unlabelled.npz", "probe_train.npz", "probe_test.npz"]
    )
    assert len(store.load_split(folder, "unlabelled")["images"]) == 10
    times = {p.name: p.stat().st_mtime_ns for p in folder.iterdir()}

    def no_rebuild(*args, **kwargs):
        raise AssertionError("rebuilt a cached data set")

    monkeypatch.setattr(store, "build_mnist_style", no_rebuild)
    assert store.cached_mnist_style(size=16, seed=3, limit=10) == folder
    assert times == {p.name: p.stat().st_mtime_ns for p in folder.iterdir()}
    with pytest.raises(AssertionError, match="rebuilt"):
        store.cached_mnist_style(size=16, seed=4, limit=10)  # another key builds anew
    assert [p.name for p in tmp_path.joinpath("mnist_style").iterdir()] == [folder.name]


def test_cache_bad_input():
    with pytest.raises(UserError, match="size"):
        store.cached_mnist_style(size=24)
    with pytest.raises(UserError, match="limit"):
        store.cached_mnist_style(size=16, limit=-5)

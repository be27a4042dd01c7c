"""MNIST source: npz and IDX (plain, gzip) give the same arrays; bad files raise UserError."""

import gzip
import pathlib

import numpy as np
import pytest

from rbvae_tf.data import mnist
from rbvae_tf.errors import UserError
from tests.conftest import MNIST_NPZ


@pytest.fixture(scope="module")
def arrays():
    with np.load(MNIST_NPZ, allow_pickle=False) as npz:
        return {key: npz[key] for key in mnist.KEYS}


def write_idx(path, array):
    """Writes `array` as an IDX file of unsigned bytes (gzip if the name ends in .gz)."""
    header = bytes([0, 0, 8, array.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    opener = gzip.open if str(path).endswith(".gz") else open
    kwargs = {"compresslevel": 1} if str(path).endswith(".gz") else {}
    with opener(path, "wb", **kwargs) as stream:
        stream.write(header + array.tobytes())


@pytest.fixture(scope="module")
def idx_folders(arrays, tmp_path_factory):
    folders = {}
    for suffix in ("", ".gz"):
        folder = tmp_path_factory.mktemp(f"idx{suffix or '_plain'}")
        for key, name in mnist.IDX_NAMES.items():
            write_idx(folder / f"{name}{suffix}", arrays[key])
        folders[suffix] = folder
    return folders


@pytest.fixture
def no_user_mnist(monkeypatch, tmp_path):
    """No $RBVAE_MNIST and an empty home, so the bundled copy is the default."""
    monkeypatch.delenv("RBVAE_MNIST", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))


def test_default_is_bundled_copy(no_user_mnist, arrays):
    loaded = mnist.load_mnist()
    assert loaded["x_train"].shape == (60000, 28, 28) and loaded["x_test"].shape == (10000, 28, 28)
    assert loaded["y_train"].shape == (60000,) and loaded["y_test"].shape == (10000,)
    assert all(loaded[key].dtype == np.uint8 for key in mnist.KEYS)
    assert all(np.array_equal(loaded[key], arrays[key]) for key in mnist.KEYS)


def test_environment_variable_wins(no_user_mnist, monkeypatch, tmp_path):
    monkeypatch.setenv("RBVAE_MNIST", str(tmp_path / "elsewhere.npz"))
    with pytest.raises(UserError, match="elsewhere.npz"):
        mnist.load_mnist()


@pytest.mark.parametrize("suffix", ["", ".gz"])
def test_idx_equals_npz(idx_folders, arrays, suffix):
    loaded = mnist.load_mnist(idx_folders[suffix])
    for key in mnist.KEYS:
        assert loaded[key].dtype == np.uint8
        np.testing.assert_array_equal(loaded[key], arrays[key])


def test_source_id(idx_folders, tmp_path, arrays):
    first = mnist.mnist_source_id(MNIST_NPZ)
    assert first == mnist.mnist_source_id(MNIST_NPZ) and len(first) == 12
    assert mnist.mnist_source_id(idx_folders[""]) != first
    changed = dict(arrays, y_test=(arrays["y_test"] + 1) % 10)
    np.savez(tmp_path / "other.npz", **changed)
    assert mnist.mnist_source_id(tmp_path / "other.npz") != first


def test_missing_file():
    with pytest.raises(UserError, match="not found"):
        mnist.load_mnist("/no/such/mnist.npz")


def test_corrupt_npz(tmp_path):
    path = tmp_path / "mnist.npz"
    path.write_bytes(MNIST_NPZ.read_bytes()[:100000])  # truncated zip
    with pytest.raises(UserError, match="cannot read"):
        mnist.load_mnist(path)
    path.write_bytes(b"not a zip file at all")
    with pytest.raises(UserError):
        mnist.load_mnist(path)


def test_pickled_file_is_refused(tmp_path):
    path = tmp_path / "mnist.npz"
    np.save(path.with_suffix(".npy"), np.array([{"x": 1}], dtype=object), allow_pickle=True)
    path.with_suffix(".npy").rename(path)
    with pytest.raises(UserError):
        mnist.load_mnist(path)


def test_npz_with_wrong_content(tmp_path, arrays):
    np.savez(tmp_path / "keys.npz", x_train=arrays["x_train"])
    with pytest.raises(UserError, match="y_train"):
        mnist.load_mnist(tmp_path / "keys.npz")
    np.savez(tmp_path / "shape.npz", **dict(arrays, x_test=arrays["x_test"][:, :20]))
    with pytest.raises(UserError, match=r"x_test must be uint8 \(N, 28, 28\)"):
        mnist.load_mnist(tmp_path / "shape.npz")
    np.savez(tmp_path / "labels.npz", **dict(arrays, y_train=arrays["y_train"][:10]))
    with pytest.raises(UserError, match="y_train"):
        mnist.load_mnist(tmp_path / "labels.npz")


def test_idx_folder_errors(tmp_path, arrays):
    for key, name in mnist.IDX_NAMES.items():
        if key != "y_test":
            write_idx(tmp_path / name, arrays[key][:50])
    with pytest.raises(UserError, match="t10k-labels-idx1-ubyte"):
        mnist.load_mnist(tmp_path)
    labels = tmp_path / mnist.IDX_NAMES["y_test"]
    write_idx(labels, arrays["y_test"][:50])
    labels.write_bytes(labels.read_bytes()[:-3])  # truncated
    with pytest.raises(UserError, match="truncated"):
        mnist.load_mnist(tmp_path)
    labels.write_bytes(b"\x00\x00\x0d\x01garbage")  # float IDX, not unsigned bytes
    with pytest.raises(UserError, match="not an IDX"):
        mnist.load_mnist(tmp_path)
    gz = pathlib.Path(str(labels) + ".gz")
    labels.unlink()
    gz.write_bytes(b"\x1f\x8b broken gzip")
    with pytest.raises(UserError, match="cannot read"):
        mnist.load_mnist(tmp_path)

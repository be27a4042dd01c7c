import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import pathlib

import pytest

REPO = pathlib.Path(__file__).resolve().parents[1]
MNIST_NPZ = REPO / "zoo" / "data" / "mnist.npz"


def pytest_configure(config):
    config.addinivalue_line("markers", "large: slow test, opt-in with `-m large`")


@pytest.fixture(autouse=True, scope="session")
def _isolated_cache(tmp_path_factory):
    """Data caches of the tests go to a temporary folder, never to the user's home."""
    os.environ["RBVAE_CACHE"] = str(tmp_path_factory.mktemp("cache"))
    yield

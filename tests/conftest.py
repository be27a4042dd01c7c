import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import pathlib

import pytest

REPO = pathlib.Path(__file__).resolve().parents[1]
MNIST_NPZ = REPO / "zoo" / "data" / "mnist.npz"


def in_ci():
    """True when the environment variable CI is `true` (as CI services and `.ci/run` set it)."""
    return os.environ.get("CI", "").strip().lower() in ("true", "1")


def require_tool(available, message):
    """Skips the calling test or fixture when an optional tool (Chromium, the npm runtime of the web
    page) is missing, with `message`, a one-line reason naming the command that installs it; in CI
    it fails instead: `.ci/run` installs every tool, so a missing one there is a broken CI."""
    if available:
        return
    if in_ci():
        pytest.fail(f"CI=true and {message}", pytrace=False)
    pytest.skip(message)


def pytest_configure(config):
    config.addinivalue_line("markers", "large: slow test, opt-in with `-m large`")


@pytest.fixture(autouse=True, scope="session")
def _isolated_cache(tmp_path_factory):
    """Data caches of the tests go to a temporary folder, never to the user's home."""
    os.environ["RBVAE_CACHE"] = str(tmp_path_factory.mktemp("cache"))
    yield


@pytest.fixture(scope="module")
def load_each_model_once():
    """Loading a .keras file takes seconds on a busy CPU: within a test module each path is really
    loaded once, then reused (failures are not cached, so error rows still run the real loader).
    Opt in with `pytestmark = pytest.mark.usefixtures("load_each_model_once")`."""
    import functools

    from rbvae_tf import loading

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(loading, "load_trained", functools.lru_cache(loading.load_trained))
        yield

"""The `Example:` blocks of the library's docstrings run, and print what they say (CI runs this file)."""

import doctest
import importlib
import pkgutil

import keras
import numpy as np
import pytest

PACKAGES = ["rbvae_tf.metrics", "rbvae_tf.networks", "rbvae_tf.models", "export"]


def modules(package_name):
    """The package and each of its modules (found on disk, so a new module is collected too)."""
    package = importlib.import_module(package_name)
    names = [f"{package_name}.{info.name}" for info in pkgutil.iter_modules(package.__path__)]
    return [package] + [importlib.import_module(name) for name in sorted(names)]


@pytest.mark.parametrize("package_name", PACKAGES)
def test_docstring_examples_run(package_name):
    attempted, failures = 0, []
    for module in modules(package_name):
        result = doctest.testmod(module, extraglobs={"np": np, "keras": keras}, optionflags=doctest.ELLIPSIS)
        attempted += result.attempted
        if result.failed:
            failures.append(f"{module.__name__}: {result.failed} of {result.attempted} failed")
    assert not failures, failures
    assert attempted > 0

"""The package version, alone in a module without imports, so that `python cli.py --version` can
read it without running `rbvae_tf/__init__` (which imports TensorFlow). Equal to pyproject's
`version` (tests/test_cli_help.py checks)."""

__version__ = "0.1.0"

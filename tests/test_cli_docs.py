"""docs/cli.md is what docs/make_cli_md.py generates from cli.py now: the command-line page cannot go stale."""

import importlib.util

from tests.conftest import REPO


def load_generator():
    spec = importlib.util.spec_from_file_location("make_cli_md", REPO / "docs" / "make_cli_md.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_committed_command_line_page_is_current():
    generated = load_generator().cli_markdown()
    committed = (REPO / "docs" / "cli.md").read_text()
    assert committed == generated, "docs/cli.md is stale: run `python docs/make_cli_md.py > docs/cli.md`"


def test_the_page_has_every_command_and_option():
    import click

    import cli

    page = (REPO / "docs" / "cli.md").read_text()
    generator = load_generator()
    commands = [(path, node) for path, node, _ in generator.walk(cli.cli) if path]
    assert {" ".join(path) for path, _ in commands} == {
        "bench",
        "bench infer",
        "bench train",
        "data",
        "data mnist-style",
        "evaluate",
        "export",
        "fit",
        "generate",
        "transfer",
        "zoo",
    }
    for path, node in commands:
        assert f"Usage: python cli.py {' '.join(path)} [OPTIONS]" in page
        for param in node.params:
            if isinstance(param, click.Option) and not param.hidden:
                assert param.opts[0] in page, (path, param.opts[0])
    assert "--preset" not in page  # the former option names are gone (CHANGELOG)

"""Consistency guards of the documentation: links and images resolve, nothing cites a file
outside the project, the README's zoo table is the report tool's, the README stays a short portal,
every documented `cli.py` option exists, and no image is stored twice."""

import hashlib
import importlib.util
import re
import shlex

import pytest

from tests.conftest import REPO

DOCUMENTS = sorted(
    {
        REPO / "README.md",
        REPO / "CHANGELOG.md",
        REPO / "REPORT.md",
        REPO / "export" / "README.md",
        *REPO.glob("docs/**/*.md"),
        *REPO.glob("zoo/*/README.md"),
    }
)
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")  # [text](target) and ![alt](target)
HTML_SOURCE = re.compile(r"<(?:img|a)\s[^>]*(?:src|href)=\"([^\"]+)\"")
PARENT_PATH = re.compile(r"(?<![\w/.])((?:\.\./)+[\w.\-/]*)")  # ../x/y in links, code spans or prose


def _relative(path):
    return path.relative_to(REPO).as_posix()


def _targets(text):
    """Relative link and image targets of a Markdown text, without anchors (web and mail links excluded)."""
    for target in [*LINK.findall(text), *HTML_SOURCE.findall(text)]:
        if re.match(r"^(?:[a-z][a-z0-9+.-]*:|#)", target):
            continue
        yield target.split("#", 1)[0]


def test_the_documents_exist():
    for name in (
        "README.md",
        "CHANGELOG.md",
        "LICENSE",
        "CITATION.cff",
        "docs/README.md",
        "docs/performance.md",
        "docs/archive/README.md",
    ):
        assert (REPO / name).is_file(), name


@pytest.mark.parametrize("document", DOCUMENTS, ids=_relative)
def test_every_relative_link_and_image_resolves(document):
    missing = [t for t in _targets(document.read_text()) if not (document.parent / t).exists()]
    assert missing == [], f"{_relative(document)} links to missing files: {missing}"


def test_the_link_check_can_fail(tmp_path):
    page = tmp_path / "page.md"
    page.write_text(
        '[a](missing.md) ![b](img/none.png) [web](https://example.org) [here](#anchor) <img src="gone.png">'
    )
    assert [t for t in _targets(page.read_text()) if not (tmp_path / t).exists()] == [
        "missing.md",
        "img/none.png",
        "gone.png",
    ]


@pytest.mark.parametrize("document", DOCUMENTS, ids=_relative)
def test_no_document_cites_a_file_outside_the_project(document):
    text = document.read_text()
    outside = [
        p for p in PARENT_PATH.findall(text) if not (document.parent / p).resolve().is_relative_to(REPO.resolve())
    ]
    assert outside == [], f"{_relative(document)} cites paths outside the project: {outside}"
    assert not re.search(r"/work/|/home/\w|/Users/\w", text), f"{_relative(document)} names a machine's path"


def test_readme_zoo_table_is_what_the_report_tool_writes():
    from research import report

    presets = {m: p for m in report.MODELS if (p := report.load_preset(REPO / "zoo", m))}
    assert len(presets) == 7
    readme = (REPO / "README.md").read_text()
    table = readme.split(report.README_START + "\n", 1)[1].split("\n" + report.README_END, 1)[0]
    assert table.splitlines() == report.headline(presets)


def test_readme_is_a_portal_with_the_essentials_first():
    lines = (REPO / "README.md").read_text().splitlines()
    assert len(lines) <= 200, len(lines)
    head = "\n".join(lines[:60])
    assert "pip install -r requirements.txt && python cli.py fit" in head
    assert re.search(r"python cli\.py fit[^\n]*\n(?:[^\n]*\n){0,12}?[^\n]*\d+(?:\.\d+)? min", head), (
        "the main command's duration"
    )
    assert "runs/srbvae-cpu" in head, "what the main command writes"
    start = next(i for i, line in enumerate(lines) if line.startswith("<!-- zoo table"))
    end = next(i for i, line in enumerate(lines) if line.startswith("<!-- end of zoo table"))
    assert start < end < 60, "the headline results within the first 60 lines"
    for topic in ("Install", "Quick start", "Documentation", "Citation", "Licence"):
        assert any(line.startswith("## ") and topic in line for line in lines), topic


def _cli_options():
    """{command path: option names} of every command of cli.py, e.g. {"fit": {"--model", ...}}; hidden options
    (former spellings, still accepted) are left out, so the docs use the current names."""
    import click

    spec = importlib.util.spec_from_file_location("rbvae_cli_for_docs", REPO / "cli.py")
    cli = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(cli)
    options = {}

    def walk(command, path):
        names = {
            name
            for p in command.params
            if isinstance(p, click.Option) and not p.hidden
            for name in p.opts + p.secondary_opts
        }
        options[path] = names | {"--help"}
        for name, sub in getattr(command, "commands", {}).items():
            walk(sub, f"{path} {name}".strip())

    walk(cli.cli, "")
    return options


def _documented_commands():
    """(document, command words) of every `python cli.py ...` command written in the docs (not the archive,
    whose commands are kept as they were run)."""
    for document in (d for d in DOCUMENTS if "archive" not in d.relative_to(REPO).parts):
        for line in document.read_text().splitlines():
            for match in re.finditer(r"python cli\.py ([^`#|\n]*)", line):
                text = match.group(1).split(" && ")[0].split(" ; ")[0].strip().rstrip("\\").strip()
                try:
                    words = shlex.split(text)
                except ValueError:
                    continue
                yield document, words


def test_every_documented_cli_option_exists():
    options = _cli_options()
    unknown = set()
    for document, words in _documented_commands():
        path = ""
        for word in words:
            if f"{path} {word}".strip() in options and not word.startswith("-"):
                path = f"{path} {word}".strip()
            elif word.startswith("--"):
                if word.split("=", 1)[0] not in options[path]:
                    unknown.add((_relative(document), f"cli.py {path}", word))
            elif not path:
                break  # prose such as "python cli.py COMMAND --help"
    assert sorted(unknown) == []


def test_no_image_is_stored_twice():
    seen, twice = {}, []
    for image in sorted(
        p
        for p in REPO.rglob("*.png")
        if ".git" not in p.parts
        and "node_modules" not in p.parts
        and not {"runs", "exports"} & set(p.relative_to(REPO).parts[:1])
    ):
        digest = hashlib.sha256(image.read_bytes()).hexdigest()
        if digest in seen:
            twice.append((_relative(seen[digest]), _relative(image)))
        seen.setdefault(digest, image)
    assert twice == []


def test_the_bundled_mnist_keeps_its_licence_and_the_citation_names_the_paper():
    notice = (REPO / "zoo" / "data" / "NOTICE").read_text()
    assert "CC BY-SA 3.0" in notice and "mnist.npz" in notice
    assert "Apache License" in (REPO / "LICENSE").read_text()
    citation = (REPO / "CITATION.cff").read_text()
    assert citation.startswith("cff-version: 1.2.0\n") and "\nlicense: Apache-2.0\n" in citation
    paper = citation.split("\npreferred-citation:\n", 1)[1]
    assert re.findall(r"family-names: (\w+)", paper) == ["Ruiz", "Martinez", "Binefa", "Verbeek"]
    assert 'title: "Learning Disentangled Representations with Reference-Based Variational Autoencoders"' in paper
    assert 'value: "arXiv:1901.08534"' in paper

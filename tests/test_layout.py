"""The layout of docs/architecture.md holds: what each folder may import, and no import circle anywhere.

Read from the source (every `import` and `from ... import`, at the top of a file or inside a function), so
a lazy import counts too. Third-party packages are not checked.
"""

import ast
import collections
import re

import pytest

from tests.conftest import REPO

FOLDERS = ("rbvae_tf", "export", "research", "tests", "benchmarks", "cli", "zoo", "docs")
# folder -> the project folders its modules may import (besides their own)
ALLOWED = {
    "rbvae_tf": set(),
    "export": {"rbvae_tf"},
    "cli": {"rbvae_tf", "export"},
    "research": {"rbvae_tf"},
}


def _module_name(path):
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules():
    """{module name: path} of the checked code: the library, the exporters, the command line and the research."""
    modules = {"cli": REPO / "cli.py"}
    for folder in ("rbvae_tf", "export", "research"):
        for path in (REPO / folder).rglob("*.py"):
            if "node_modules" not in path.parts:
                modules[_module_name(path)] = path
    return modules


def _imports(path):
    """The dotted names a file imports (a `from X import Y` as X.Y, which may be a module or a name in X)."""
    names = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names += [f"{node.module}.{alias.name}" for alias in node.names]
    return names


def _graph(modules):
    """{module: the project modules it imports}: each name resolved to the longest module it starts with."""
    graph = collections.defaultdict(set)
    for name, path in modules.items():
        for target in _imports(path):
            while target and target not in modules:
                target = target.rpartition(".")[0]
            if target and target != name:
                graph[name].add(target)
    return graph


def _cycles(graph):
    """The strongly connected components of more than one module (Tarjan), each sorted."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for other in sorted(graph.get(node, ())):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while not component or component[-1] != node:
                component.append(stack.pop())
                on_stack.discard(component[-1])
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_import_circle_in_the_code():
    assert _cycles(_graph(_modules())) == []


def test_the_circle_check_can_fail():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


@pytest.mark.parametrize("folder", sorted(ALLOWED))
def test_each_folder_imports_only_the_floors_below_it(folder):
    paths = (
        [REPO / "cli.py"]
        if folder == "cli"
        else sorted(p for p in (REPO / folder).rglob("*.py") if "node_modules" not in p.parts)
    )
    wrong = sorted(
        {
            (str(p.relative_to(REPO)), name)
            for p in paths
            for name in _imports(p)
            if name.split(".")[0] in FOLDERS and name.split(".")[0] not in ALLOWED[folder] | {folder}
        }
    )
    assert wrong == []


def test_no_code_edits_the_import_path():
    """The scripts run as modules (`python -m research.ablations`) or as the command line; none adds the
    repository to sys.path itself (the archive's and the benchmarks' scripts aside)."""
    paths = [
        REPO / "cli.py",
        *[p for folder in ("rbvae_tf", "research", "tests") for p in (REPO / folder).rglob("*.py")],
    ]
    assert [
        str(p.relative_to(REPO)) for p in paths if "sys.path.insert" in p.read_text() and p.name != "test_layout.py"
    ] == []


def test_no_issue_numbers_or_commits_outside_the_history():
    """The CHANGELOG (and docs/archive/) hold the history; code, tests, cards, reports and docs say what is."""
    pattern = re.compile(r"\bissues? #?\d+|\bcommit [0-9a-f]{7,40}\b", re.IGNORECASE)
    skipped = {"docs/archive", "node_modules", ".git", "benchmarks/results", "runs", "exports"}
    found = []
    for path in sorted(REPO.rglob("*")):
        relative = path.relative_to(REPO).as_posix()
        if path.suffix not in {".py", ".md", ".toml", ".txt", ".json", ".cfg", ".ini"} or relative == "CHANGELOG.md":
            continue
        if any(relative == part or relative.startswith(part + "/") or f"/{part}/" in relative for part in skipped):
            continue
        found += [f"{relative}:{n}" for n, line in enumerate(path.read_text().splitlines(), 1) if pattern.search(line)]
    assert found == []

"""No import circle inside a package of ours (read from the source): imports inside functions count, since
a circle hidden in a function is still a circle (extensions -> tasks -> engine -> extensions was one), and so
does `importlib.import_module("a.name")`; `if TYPE_CHECKING:` imports and a module's imports of its own
parent packages do not. Also: the store layer never reaches the agent client, and a module of ours is
imported plainly, never looked up by name "if installed" (the worker imports the ingest directly)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
PACKAGES = {
    "leader": REPO / "leader" / "src" / "leader",
    "unit_agent": REPO / "unit_agent" / "src" / "unit_agent",
    "cluster_schema": REPO / "shared" / "src" / "cluster_schema",
}


def _type_checking_only(tree: ast.AST) -> set[int]:
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skipped.update(id(n) for stmt in node.body for n in ast.walk(stmt))
    return skipped


def imported_by_name(node: ast.AST) -> str | None:
    """The module of `importlib.import_module("x.y")` / `__import__("x.y")` with a literal name."""
    if (
        isinstance(node, ast.Call)
        and getattr(node.func, "id", getattr(node.func, "attr", "")) in ("import_module", "__import__")
        and node.args
        and isinstance(node.args[0], ast.Constant)
        and isinstance(node.args[0].value, str)
    ):
        return node.args[0].value
    return None


def import_graph(root: Path) -> dict[str, set[str]]:
    modules: dict[str, tuple[Path, list[str]]] = {}
    for path in root.rglob("*.py"):
        parts = list(path.relative_to(root.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
            package = parts
        else:
            package = parts[:-1]
        modules[".".join(parts)] = (path, package)
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, (path, package) in modules.items():
        tree = ast.parse(path.read_text())
        skipped = _type_checking_only(tree)
        for node in ast.walk(tree):
            if id(node) in skipped:
                continue
            if isinstance(node, ast.ImportFrom):
                base = package[: len(package) - node.level + 1] if node.level else []
                target = ".".join(base + ([node.module] if node.module else []))
                candidates = [target] + [f"{target}.{alias.name}" for alias in node.names]
            elif isinstance(node, ast.Import):
                candidates = [alias.name for alias in node.names]
            elif named := imported_by_name(node):
                candidates = [named]
            else:
                continue
            for target in candidates:
                related = name.startswith(target + ".") or target.startswith(name + ".")
                if target in modules and target != name and not related:
                    graph[name].add(target)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


@pytest.mark.parametrize("package", sorted(PACKAGES))
def test_no_import_cycles(package: str) -> None:
    assert cycles(import_graph(PACKAGES[package])) == []


def _package(tmp_path: Path, modules: dict[str, str]) -> Path:
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    for name, source in {"__init__": "", **modules}.items():
        (pkg / f"{name}.py").write_text(source)
    return pkg


def test_finds_a_cycle_hidden_in_a_function(tmp_path: Path) -> None:
    pkg = _package(
        tmp_path,
        {
            "a": "from .b import x\nfrom . import d\n",
            "b": "def f():\n    from . import c\n",
            "c": "import pkg.a\n",
            "d": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .a import y\n",
        },
    )
    assert cycles(import_graph(pkg)) == [["pkg.a", "pkg.b", "pkg.c"]]


def _reaches(graph: dict[str, set[str]], start: str) -> set[str]:
    seen: set[str] = set()
    todo = [start]
    while todo:
        for target in graph[todo.pop()] - seen:
            seen.add(target)
            todo.append(target)
    return seen


def test_the_store_never_reaches_the_agent_client() -> None:
    graph = import_graph(PACKAGES["leader"])
    store = [m for m in graph if m == "leader.db" or m.startswith("leader.db.")]
    assert "leader.db.units" in store
    assert [m for m in store if "leader.agent_client" in _reaches(graph, m)] == []


@pytest.mark.parametrize("package", sorted(PACKAGES))
def test_our_modules_are_imported_plainly(package: str) -> None:
    """A module named in a literal string is a dependency the reader (and this file's graph) may miss, and
    an "if installed" fallback hides its absence: `api/__init__`'s discovery of its own modules is the one
    lookup by name, and it builds the name."""
    found = []
    for path in sorted(PACKAGES[package].rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if (named := imported_by_name(node)) and named.split(".")[0] in PACKAGES:
                found.append(f"{path.relative_to(REPO)}: {named}")
    assert found == []


def test_the_worker_imports_the_ingest_directly() -> None:
    tree = ast.parse((PACKAGES["leader"] / "worker.py").read_text())
    top = [n for n in tree.body if isinstance(n, ast.ImportFrom) and n.level == 1 and not n.module]
    assert any("ingest" in {alias.name for alias in n.names} for n in top)
    assert "leader.ingest" in import_graph(PACKAGES["leader"])["leader.worker"]


def test_finds_a_cycle_through_a_module_imported_by_name(tmp_path: Path) -> None:
    a = "import importlib\ndef f():\n    return importlib.import_module('pkg.b')\n"
    pkg = _package(tmp_path, {"a": a, "b": "from . import a\n"})
    assert cycles(import_graph(pkg)) == [["pkg.a", "pkg.b"]]

"""The leader and the agent never import each other; the schema imports neither (read from the source)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.test_import_cycles import imported_by_name

REPO = Path(__file__).resolve().parent.parent
PACKAGES = {
    "leader": REPO / "leader" / "src" / "leader",
    "unit_agent": REPO / "unit_agent" / "src" / "unit_agent",
    "cluster_schema": REPO / "shared" / "src" / "cluster_schema",
}
FORBIDDEN = {
    "leader": {"unit_agent"},
    "unit_agent": {"leader"},
    "cluster_schema": {"leader", "unit_agent", "flask", "requests", "paho", "huey", "apscheduler", "yaml"},
}


def imported_roots(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), str(path))
    roots = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module.split(".")[0])
        elif named := imported_by_name(node):
            roots.add(named.split(".")[0])
    return roots


@pytest.mark.parametrize("package", sorted(PACKAGES))
def test_no_forbidden_imports(package: str) -> None:
    offenders = []
    for path in sorted(PACKAGES[package].rglob("*.py")):
        bad = imported_roots(path) & FORBIDDEN[package]
        if bad:
            offenders.append(f"{path.relative_to(REPO)} imports {sorted(bad)}")
    assert not offenders, "\n".join(offenders)


def test_checker_catches_a_violation(tmp_path: Path) -> None:
    f = tmp_path / "m.py"
    f.write_text("import os\nfrom unit_agent.pio import run\nimportlib.import_module('leader.app')\n")
    assert {"unit_agent", "leader"} <= imported_roots(f)

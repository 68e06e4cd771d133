"""Each project builds its own wheel, and a unit's install pulls in nothing of the leader's."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
LEADER_ONLY = {"apscheduler", "requests", "pyyaml", "pioreactor-cluster-leader", "tzlocal"}


def _build(project: str, out: Path) -> Path:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "build",
            "-q",
            "--wheel",
            "--no-isolation",
            "--outdir",
            str(out),
            str(REPO / project),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    (wheel,) = _find(out, project)
    return wheel


def _find(out: Path, project: str) -> list[Path]:
    dist_name = {
        "shared": "pioreactor_cluster_schema",
        "unit_agent": "pioreactor_unit_agent",
        "leader": "pioreactor_cluster_leader",
    }[project]
    return sorted(out.glob(f"{dist_name}-*.whl"))


def _resolved(tmp_path: Path, wheels: list[Path]) -> set[str]:
    """What an empty venv would get: `pip --dry-run --ignore-installed` resolves the full tree."""
    report = tmp_path / "report.json"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--dry-run", "--ignore-installed",
         "--report", str(report), "-c", str(REPO / "constraints.txt"), *map(str, wheels)],
        check=True,
        capture_output=True,
        timeout=300,
    )  # fmt: skip
    return {item["metadata"]["name"].lower() for item in json.loads(report.read_text())["install"]}


@pytest.mark.xdist_group("packaging")
def test_agent_install_pulls_no_leader_dependency(tmp_path: Path) -> None:
    names = _resolved(tmp_path, [_build(p, tmp_path) for p in ("shared", "unit_agent")])
    assert {"pioreactor-unit-agent", "pioreactor-cluster-schema", "flask", "huey", "paho-mqtt"} <= names
    assert not names & LEADER_ONLY, f"agent install pulls leader-only packages: {sorted(names & LEADER_ONLY)}"


@pytest.mark.xdist_group("packaging")
def test_schema_depends_on_msgspec_only(tmp_path: Path) -> None:
    assert _resolved(tmp_path, [_build("shared", tmp_path)]) == {"pioreactor-cluster-schema", "msgspec"}


@pytest.mark.xdist_group("packaging")
def test_leader_wheel_carries_the_ui(tmp_path: Path) -> None:
    """A Pi installs the UI from the wheel alone: templates, our assets and the npm libraries."""
    import zipfile

    if not (REPO / "leader/src/leader/static/vendor/htmx.min.js").exists():
        pytest.skip("the vendor libraries are not installed: run `make install` (npm)")
    names = set(zipfile.ZipFile(_build("leader", tmp_path)).namelist())
    wanted = {"leader/templates/base.html", "leader/static/css/app.css", "leader/static/js/operation.js"}
    vendor = {"leader/static/vendor/htmx.min.js", "leader/static/vendor/uPlot.iife.min.js"}
    assert wanted | vendor <= names, sorted((wanted | vendor) - names)

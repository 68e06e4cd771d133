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


@pytest.mark.xdist_group("packaging")
def test_agent_install_pulls_no_leader_dependency(tmp_path: Path) -> None:
    wheels = [_build(p, tmp_path) for p in ("shared", "unit_agent")]
    report = tmp_path / "report.json"
    # --dry-run --ignore-installed resolves the full tree an empty venv would get, without installing it.
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "-q",
            "--dry-run",
            "--ignore-installed",
            "--report",
            str(report),
            "-c",
            str(REPO / "constraints.txt"),
            *map(str, wheels),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    names = {item["metadata"]["name"].lower() for item in json.loads(report.read_text())["install"]}
    assert {"pioreactor-unit-agent", "pioreactor-cluster-schema", "flask", "huey", "paho-mqtt"} <= names
    assert not names & LEADER_ONLY, f"agent install pulls leader-only packages: {sorted(names & LEADER_ONLY)}"


@pytest.mark.xdist_group("packaging")
def test_schema_depends_on_msgspec_only(tmp_path: Path) -> None:
    wheel = _build("shared", tmp_path)
    report = tmp_path / "report.json"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "-q",
            "--dry-run",
            "--ignore-installed",
            "--report",
            str(report),
            "-c",
            str(REPO / "constraints.txt"),
            str(wheel),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    names = {item["metadata"]["name"].lower() for item in json.loads(report.read_text())["install"]}
    assert names == {"pioreactor-cluster-schema", "msgspec"}

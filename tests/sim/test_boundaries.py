"""pio-sim stands alone: it imports only itself, cluster_schema, click, paho and the standard library."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import unit_agent.sim

SIM = Path(unit_agent.sim.__file__).parent
ALLOWED_THIRD_PARTY = {"click", "paho", "cluster_schema"}


def _imports(path: Path) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found += [(0, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            found.append((node.level, node.module or ""))
    return found


def test_sim_imports_nothing_of_the_agent_or_leader() -> None:
    files = sorted(SIM.glob("*.py"))
    assert len(files) >= 5
    for path in files:
        for level, module in _imports(path):
            top = module.split(".")[0]
            if level:
                assert level == 1, f"{path.name}: relative import leaves sim/: {'.' * level}{module}"
            elif top == "unit_agent":
                assert module.startswith("unit_agent.sim"), f"{path.name} imports {module}"
            else:
                assert top in sys.stdlib_module_names or top in ALLOWED_THIRD_PARTY, f"{path.name}: {module}"


def test_console_script_is_installed_and_answers() -> None:
    script = Path(sys.executable).parent / "pio-sim"
    assert script.exists()
    done = subprocess.run([str(script), "version"], capture_output=True, text=True, timeout=20)
    assert (done.returncode, done.stdout.strip()) == (0, "26.11.1")


def test_runs_without_a_config_file(tmp_path: Path) -> None:
    script = Path(sys.executable).parent / "pio-sim"
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "DOT_PIOREACTOR": str(tmp_path / "dot"),
        "HOSTNAME": "solo",
    }
    done = subprocess.run(
        [str(script), "jobs", "list", "running"], capture_output=True, text=True, env=env, timeout=20
    )
    assert (done.returncode, done.stdout.strip()) == (0, "No jobs recorded.")
    assert (tmp_path / "dot" / "storage" / "local_intermittent_pioreactor_metadata.sqlite").exists()

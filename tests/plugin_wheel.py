"""A tiny Pioreactor plugin, built by the tests into a local wheel folder (pip wheel: offline, no isolation).

It declares the `pioreactor.plugins` entry point real pio looks for (to find the package it installed);
pio-sim installs it the same way. Agents get the folder as `plugins_find_links`: pip never reaches an index.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

PLUGIN = "pioreactor-fleet-test-plugin"
MODULE = "pioreactor_fleet_test_plugin"
VERSION = "0.1.0"


def build_plugin_wheel(tmp: Path) -> Path:
    project = tmp / "plugin_src"
    (project / MODULE).mkdir(parents=True)
    (project / MODULE / "__init__.py").write_text("VALUE = 42\n")
    (project / "pyproject.toml").write_text(
        '[build-system]\nrequires = ["setuptools"]\nbuild-backend = "setuptools.build_meta"\n'
        f'[project]\nname = "{PLUGIN}"\nversion = "{VERSION}"\ndescription = "fleet test plugin"\n'
        f'[project.entry-points."pioreactor.plugins"]\n{MODULE} = "{MODULE}"\n'
        f'[tool.setuptools]\npackages = ["{MODULE}"]\n'
    )
    wheels = tmp / "wheels"
    argv = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index"]
    done = subprocess.run(
        [*argv, "-w", str(wheels), str(project)], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert list(wheels.glob("*.whl"))
    return wheels

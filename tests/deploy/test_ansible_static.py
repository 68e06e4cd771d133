"""The playbooks parse, and ansible-lint's production profile finds nothing (offline: no Galaxy here)."""

from __future__ import annotations

import os
import re
import subprocess

import pytest

from .harness import ANSIBLE_DIR, BIN, require

pytestmark = pytest.mark.deploy


def _run(*argv: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PATH": f"{BIN}:{os.environ.get('PATH', '')}", "ANSIBLE_NOCOLOR": "1"}
    return subprocess.run(
        argv, cwd=ANSIBLE_DIR, env=env, capture_output=True, text=True, timeout=300, check=False
    )


@pytest.mark.parametrize("play", ["site.yml", "rollout.yml"])
def test_playbook_syntax(play: str) -> None:
    require("ansible-playbook")
    done = _run(str(BIN / "ansible-playbook"), "-i", "inventory.example.yml", "--syntax-check", play)
    assert done.returncode == 0, done.stdout + done.stderr


def test_ansible_lint_production_profile() -> None:
    require("ansible-lint")
    done = _run(str(BIN / "ansible-lint"), "--offline", "--profile", "production", "--nocolor", ".")
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    assert "Profile 'production' was required, and it passed" in done.stderr + done.stdout


def test_only_builtin_modules() -> None:
    """No collection from Galaxy: every module is ansible.builtin's."""
    module = re.compile(r"^\s*(?:- )?([a-z0-9_]+\.[a-z0-9_]+\.[a-z0-9_]+):", re.M)
    used = {m for path in ANSIBLE_DIR.rglob("*.yml") for m in module.findall(path.read_text())}
    assert "ansible.builtin.template" in used
    assert {m for m in used if not m.startswith("ansible.builtin.")} == set()

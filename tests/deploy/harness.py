"""Deploy test harness: run our playbooks with `-c local` into temporary roots, read what they rendered,
check systemd units offline (`systemd-analyze --root`), and start a rendered unit's command as systemd would.

Everything runs on this machine as root without systemd as PID 1: roles are converged with
`<role>_root=<tmp>` and `<role>_manage_services=false`, and each test starts the processes it needs.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
ANSIBLE_DIR = REPO / "deploy" / "ansible"
BIN = Path(sys.executable).parent
# Releases are virtualenvs made by the base interpreter (a venv of the repo's venv would do, but slower).
BASE_PYTHON = getattr(sys, "_base_executable", sys.executable)
WHEELHOUSE = REPO / "dist" / "wheelhouse"

# Recognisable secrets: no test output may contain them.
SECRETS = {
    "leader_secret_key": "leader-key-Zq7s9Kd2Lp4Xw8Vn",
    "leader_cluster_token": "cluster-token-Hb3Rt6Yu9Io1Pa5S",
    "leader_mqtt_password": "mqtt-leader-Gf4Dd8Sa",
    "unit_agent_cluster_token": "cluster-token-Hb3Rt6Yu9Io1Pa5S",
    "unit_agent_mqtt_password": "mqtt-unit-Jk2Lm7Nq",
}


def require(*tools: str) -> None:
    """Skip (with the reason) where a tool the test needs is missing."""
    for tool in tools:
        where = BIN / tool if tool.startswith("ansible") else None
        if where is not None and not where.exists():
            pytest.skip(f"{tool} is not installed in the repo venv (run `make install-deploy`)")
        if where is None and not shutil.which(tool):
            pytest.skip(f"{tool} is not installed on this machine")


def require_wheelhouse() -> None:
    names = [p.name for p in WHEELHOUSE.glob("*.whl")]
    for project in ("pioreactor_cluster_leader", "pioreactor_unit_agent", "pioreactor_cluster_schema"):
        if not any(n.startswith(project + "-") for n in names):
            pytest.skip(f"no {project} wheel in {WHEELHOUSE} (run `make wheelhouse`)")


@dataclass
class Run:
    rc: int
    output: str

    def recap(self) -> dict[str, dict[str, int]]:
        """PLAY RECAP counters per host (the last recap wins)."""
        found: dict[str, dict[str, int]] = {}
        for host, counters in re.findall(r"^(\S+)\s+:\s+(ok=.*)$", self.output, re.M):
            found[host] = {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", counters)}
        return found


def playbook(
    play: Path,
    inventory: str | Path,
    extra_vars: dict[str, Any],
    workdir: Path,
    *args: str,
    timeout: float = 540,
) -> Run:
    """ansible-playbook with our ansible.cfg and roles; extra vars go through a JSON file (types kept)."""
    workdir.mkdir(parents=True, exist_ok=True)
    vars_file = workdir / f"vars-{len(list(workdir.glob('vars-*.json')))}.json"
    vars_file.write_text(json.dumps(extra_vars))
    env = {
        **os.environ,
        "PATH": f"{BIN}:{os.environ.get('PATH', '')}",
        "ANSIBLE_CONFIG": str(ANSIBLE_DIR / "ansible.cfg"),
        "ANSIBLE_ROLES_PATH": str(ANSIBLE_DIR / "roles"),
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_HOME": str(workdir / ".ansible"),
        "ANSIBLE_LOCAL_TEMP": str(workdir / ".ansible" / "tmp"),
    }
    argv = [str(BIN / "ansible-playbook"), "-i", str(inventory), "-e", f"@{vars_file}", *args, str(play)]
    done = subprocess.run(
        argv, env=env, cwd=workdir, capture_output=True, text=True, timeout=timeout, check=False
    )
    return Run(done.returncode, done.stdout + done.stderr)


def local_vars(root: Path) -> dict[str, Any]:
    """Variables converging every role into `root` on this machine, as root, without systemd."""
    return {
        "ansible_connection": "local",
        "ansible_python_interpreter": sys.executable,
        "broker_root": str(root),
        "broker_manage_services": False,
        "broker_user": "root",
        "broker_group": "root",
        "broker_passwords": {
            "leader": SECRETS["leader_mqtt_password"],
            "localhost": SECRETS["unit_agent_mqtt_password"],
        },
        "leader_root": str(root),
        "leader_manage_services": False,
        "leader_user": "root",
        "leader_group": "root",
        "leader_python": BASE_PYTHON,
        "leader_wheelhouse": str(WHEELHOUSE),
        "leader_chrony_allow": "127.0.0.0/8",
        "unit_agent_root": str(root),
        "unit_agent_manage_services": False,
        "unit_agent_user": "root",
        "unit_agent_group": "root",
        "unit_agent_python": BASE_PYTHON,
        "unit_agent_wheelhouse": str(WHEELHOUSE),
        "unit_agent_time_server": "leader.local",
        "unit_agent_plugins_find_links": "/srv/wheels",  # rendered only when set (index: left out)
        **SECRETS,
    }


def converge_playbook(workdir: Path, *roles: str) -> Path:
    """A play applying `roles` to every host (site.yml splits them by group; tests pick the roles)."""
    workdir.mkdir(parents=True, exist_ok=True)
    path = workdir / f"converge-{'-'.join(roles)}.yml"
    lines = ["---", "- name: Converge", "  hosts: all", "  roles:"] + [f"    - role: {r}" for r in roles]
    path.write_text("\n".join(lines) + "\n")
    return path


def tasks_playbook(workdir: Path, tasks_from: str, *roles: str) -> Path:
    """A play running one task file of each role (e.g. only the systemd units)."""
    path = workdir / f"{tasks_from.removesuffix('.yml')}-{'-'.join(roles)}.yml"
    lines = ["---", "- name: Part of the roles", "  hosts: all", "  tasks:"]
    for role in roles:
        lines += [
            f"    - name: {tasks_from} of {role}",
            "      ansible.builtin.include_role:",
            f"        name: {role}",
            f"        tasks_from: {tasks_from}",
        ]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")
    return path


# --- systemd, offline ---------------------------------------------------------------------------------


def systemd_root(root: Path, stubs: tuple[str, ...] = ()) -> Path:
    """Make `root` checkable by `systemd-analyze --root`: the distribution's units, /bin/kill, and stub
    executables for commands that exist on a unit but not here (pio, mosquitto)."""
    units = root / "usr/lib/systemd/system"
    if not units.exists():
        shutil.copytree("/usr/lib/systemd/system", units, symlinks=True)
    for path in ("/bin/kill", "/bin/mkdir", "/bin/chown", *stubs):
        target = root / path.lstrip("/")
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text("#!/bin/sh\nexit 0\n")
            target.chmod(0o755)
    return root


def analyze(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["systemd-analyze", *args], capture_output=True, text=True, timeout=60, check=False)


def exposure(root: Path, unit: str) -> float:
    done = analyze("security", "--offline=true", f"--root={root}", "--no-pager", unit)
    found = re.search(r"Overall exposure level for \S+: (\d+\.\d+)", done.stdout)
    assert found, done.stdout + done.stderr
    return float(found.group(1))


def unit_settings(path: Path) -> dict[str, list[str]]:
    """Every `Key=value` of a unit file, in order (keys repeat)."""
    found: dict[str, list[str]] = {}
    for line in path.read_text().splitlines():
        if "=" in line and not line.startswith(("#", ";", "[")):
            key, _, value = line.partition("=")
            found.setdefault(key.strip(), []).append(value.strip())
    return found


def as_systemd_would(root: Path, unit: Path) -> tuple[list[str], dict[str, str]]:
    """ExecStart and Environment= of a rendered unit, runtime paths mapped into `root`."""
    settings = unit_settings(unit)
    argv = shlex.split(settings["ExecStart"][0])
    # systemd's own syntax: a line may hold several assignments, each optionally quoted
    env = dict(a.split("=", 1) for e in settings.get("Environment", []) for a in shlex.split(e))

    def rooted(value: str) -> str:
        return str(root) + value if value.startswith(("/opt/", "/etc/", "/var/")) else value

    return [rooted(a) for a in argv], {k: rooted(v) for k, v in env.items()}

"""rollout.yml against an inventory of local hosts, each with its own root and a tiny health server standing
in for its agent (it answers the version its `current` link names, or a wrong version, or 500): batches
follow `serial`, a failing host goes back to its previous release, the play stops once a batch fails
beyond `max_fail_percentage`, and later hosts are never touched."""

from __future__ import annotations

import itertools
import json
import os
import sys
import threading
import time
import zipfile
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from .harness import ANSIBLE_DIR, BASE_PYTHON, SECRETS, playbook, require

pytestmark = pytest.mark.deploy

NEW, OLD = "0.2.0", "0.1.0"
# host -> how its agent answers after the upgrade; serial [1, 2, 1] with 50 % allowed per batch:
# batch 2 loses one of two (50 %, not beyond: goes on), batch 3 loses its one (stops), h5 is never reached.
HOSTS = {"h1": "good", "h2": "good", "h3": "500", "h4": "wrong", "h5": "good"}
# the settings the previous release was running with (an older release refuses settings it does not know)
OLD_SETTINGS = "# the previous release's settings\n"
SETTINGS = "etc/unit_agent/unit_agent.toml"
# and the systemd unit that started it (a new one may start the release differently)
OLD_UNIT = "# the previous release's unit\n"
UNIT = "etc/systemd/system/unit-agent-web.service"
BATCHES = [["h1"], ["h2", "h3"], ["h4"]]


def fake_agent_wheel(folder: Path, version: str) -> Path:
    """A wheel named like the agent, with nothing in it: installs in a second, like a release would."""
    folder.mkdir(parents=True, exist_ok=True)
    dist = f"pioreactor_unit_agent-{version}.dist-info"
    path = folder / f"pioreactor_unit_agent-{version}-py3-none-any.whl"
    files = {
        "pioreactor_unit_agent_stub.py": "",
        f"{dist}/METADATA": f"Metadata-Version: 2.1\nName: pioreactor-unit-agent\nVersion: {version}\n",
        f"{dist}/WHEEL": "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    files[f"{dist}/RECORD"] = "".join(f"{name},,\n" for name in [*files, f"{dist}/RECORD"])
    with zipfile.ZipFile(path, "w") as whl:
        for name, text in files.items():
            whl.writestr(name, text)
    return path


class StandIn(ThreadingHTTPServer):
    """A host's agent: /unit_api/health answering per its behaviour; records when it was first asked."""

    def __init__(self, root: Path, behaviour: str):
        self.root, self.behaviour = root, behaviour
        self.first_hit: float | None = None
        self.hits = 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.hits += 1
                server.first_hit = server.first_hit or time.monotonic()
                if server.behaviour == "500":
                    self.send_response(500)
                    self.end_headers()
                    return
                current = os.readlink(server.root / "opt/unit_agent/current").rsplit("/", 1)[-1]
                version = OLD if server.behaviour == "wrong" else current
                body = json.dumps({"unit": "x", "status": "ok", "agent_version": version}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *_args: object) -> None:
                pass

        super().__init__(("127.0.0.1", 0), Handler)


@pytest.fixture
def fleet(tmp_path: Path) -> Iterator[dict[str, StandIn]]:
    servers: dict[str, StandIn] = {}
    for host, behaviour in HOSTS.items():
        root = tmp_path / host
        (root / "opt/unit_agent/releases" / OLD).mkdir(parents=True)
        (root / "opt/unit_agent/releases" / OLD / ".complete").write_text(OLD)
        (root / "opt/unit_agent/current").symlink_to(f"releases/{OLD}")
        if host != "h5":  # h5 must stay untouched: nothing of it exists but its release
            (root / SETTINGS).parent.mkdir(parents=True)
            (root / SETTINGS).write_text(OLD_SETTINGS)
            (root / UNIT).parent.mkdir(parents=True)
            (root / UNIT).write_text(OLD_UNIT)
        servers[host] = StandIn(root, behaviour)
        threading.Thread(target=servers[host].serve_forever, daemon=True).start()
    try:
        yield servers
    finally:
        for server in servers.values():
            server.shutdown()
            server.server_close()


def test_rollout_in_batches_with_rollback_and_a_failure_budget(
    fleet: dict[str, StandIn], tmp_path: Path
) -> None:
    require("ansible-playbook")
    common = {
        "ansible_connection": "local",
        "ansible_python_interpreter": sys.executable,
        "unit_agent_manage_services": False,
        "unit_agent_user": "root",
        "unit_agent_group": "root",
        "unit_agent_python": BASE_PYTHON,
        "unit_agent_wheelhouse": str(fake_agent_wheel(tmp_path / "wheelhouse", NEW).parent),
        "unit_agent_version": NEW,
        "unit_agent_health_retries": 1,
        "unit_agent_health_delay": 1,
        "unit_agent_mqtt_password": SECRETS["unit_agent_mqtt_password"],
        "unit_agent_cluster_token": SECRETS["unit_agent_cluster_token"],
    }
    hosts = {
        host: {"unit_agent_root": str(server.root), "unit_agent_port": server.server_address[1]}
        for host, server in fleet.items()
    }
    inventory = tmp_path / "inventory.json"
    inventory.write_text(json.dumps({"all": {"vars": common, "children": {"units": {"hosts": hosts}}}}))
    run = playbook(
        ANSIBLE_DIR / "rollout.yml",
        inventory,
        {"rollout_serial": [1, 2, 1], "rollout_max_fail_percentage": 50},
        tmp_path / "work",
    )
    assert run.rc != 0, run.output[-6000:]  # the rollout stopped
    link = {host: os.readlink(s.root / "opt/unit_agent/current") for host, s in fleet.items()}
    # upgraded where the new version answered; back on the previous release where it did not
    assert link == {
        "h1": f"releases/{NEW}",
        "h2": f"releases/{NEW}",
        "h3": f"releases/{OLD}",
        "h4": f"releases/{OLD}",
        "h5": f"releases/{OLD}",
    }, run.output[-6000:]
    for host in ("h3", "h4"):
        assert f"{host} did not answer {NEW}: back on {OLD}" in run.output
    # with their settings: the new ones where the new release answered, the previous ones where not; no
    # backup of the settings (with their secrets) is left behind either way
    settings = {host: (fleet[host].root / SETTINGS).read_text() for host in ("h1", "h2", "h3", "h4")}
    assert settings["h3"] == settings["h4"] == OLD_SETTINGS
    assert "worker_shutdown_grace" in settings["h1"] and "worker_shutdown_grace" in settings["h2"]
    for host in ("h1", "h2", "h3", "h4"):
        assert [p.name for p in (fleet[host].root / SETTINGS).parent.iterdir()] == ["unit_agent.toml"]
    # the same for the units: no backup left next to them (systemd reads that folder)
    units = {host: (fleet[host].root / UNIT).read_text() for host in ("h1", "h2", "h3", "h4")}
    assert units["h3"] == units["h4"] == OLD_UNIT
    assert "ExecStart=" in units["h1"] and "ExecStart=" in units["h2"]
    for host in ("h1", "h2", "h3", "h4"):
        assert not [p.name for p in (fleet[host].root / UNIT).parent.iterdir() if "~" in p.name]
    # h5 comes after the batch that broke the budget: never touched
    h5 = fleet["h5"]
    assert h5.hits == 0 and not (h5.root / "opt/unit_agent/releases" / NEW).exists()
    assert not (h5.root / "etc").exists()
    # batches in serial's order: each batch was asked only after the previous one was done
    first = {host: s.first_hit for host, s in fleet.items()}
    for earlier, later in itertools.pairwise(BATCHES):
        assert max(first[h] or 0 for h in earlier) < min(first[h] or 0 for h in later)
    for secret in SECRETS.values():
        assert secret not in run.output

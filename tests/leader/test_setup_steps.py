"""The setup wizard's steps over /api: the broker check, the rollout's SSH key, the units' inventory."""

from __future__ import annotations

import shutil
import stat
import subprocess
from pathlib import Path

import pytest
import yaml
from flask.testing import FlaskClient

from devcluster.broker import Broker
from devcluster.procs import free_port

from .conftest import api_client, make_app

keygen = pytest.mark.skipif(shutil.which("ssh-keygen") is None, reason="ssh-keygen is not installed")


def test_broker_check_says_ok_or_why_not(tmp_path: Path, mqtt_broker: Broker) -> None:
    ok = api_client(make_app(tmp_path / "a", MQTT_URL=mqtt_broker.url)).post("/api/setup/broker_check")
    assert ok.status_code == 200 and ok.json["ok"] is True, ok.json
    refused = api_client(make_app(tmp_path / "b", MQTT_URL=f"mqtt://127.0.0.1:{free_port()}"))
    answer = refused.post("/api/setup/broker_check").json
    assert answer["ok"] is False and "refused the connection" in answer["reason"]
    assert answer["duration_ms"] < 5000


def test_broker_check_never_answers_the_password(tmp_path: Path) -> None:
    app = make_app(tmp_path, MQTT_URL=f"mqtt://leader:s3cret-pw@127.0.0.1:{free_port()}")
    answer = api_client(app).post("/api/setup/broker_check")
    assert "s3cret-pw" not in answer.text and answer.json["username"] == "leader"


@keygen
def test_ssh_key_made_rotated_and_its_private_half_never_served(tmp_path: Path, api: FlaskClient) -> None:
    assert api.get("/api/setup/ssh_key").status_code == 404
    made = api.post("/api/setup/ssh_key")
    assert made.status_code == 201, made.json
    assert made.json["public_key"].startswith("ssh-ed25519 ")
    private = tmp_path / "rollout_ssh/id_ed25519"
    assert stat.S_IMODE(private.stat().st_mode) == 0o600
    assert stat.S_IMODE(private.parent.stat().st_mode) == 0o700
    printed = subprocess.run(["ssh-keygen", "-lf", str(private)], capture_output=True, text=True, check=True)
    assert made.json["fingerprint"] in printed.stdout
    shown = api.get("/api/setup/ssh_key")
    assert shown.json["fingerprint"] == made.json["fingerprint"] and "PRIVATE" not in shown.text
    rotated = api.post("/api/setup/ssh_key").json
    assert rotated["fingerprint"] != made.json["fingerprint"]
    assert sorted(p.name for p in private.parent.iterdir()) == [".lock", "id_ed25519", "id_ed25519.pub"]


def test_inventory_lists_the_units_as_the_ansible_roles_expect(api: FlaskClient) -> None:
    assert api.post("/api/units", json={"name": "pio01"}).status_code == 201
    assert (
        api.post("/api/units", json={"name": "pio02", "address": "10.0.0.2", "port": 5000}).status_code == 201
    )
    answer = api.get("/api/setup/inventory", headers={"Host": "leader.local:8000"})
    assert answer.status_code == 200 and answer.mimetype == "application/yaml"
    assert "attachment" in answer.headers["Content-Disposition"]
    inventory = yaml.safe_load(answer.text)["all"]
    units = inventory["children"]["units"]
    assert units["hosts"] == {"pio01": None, "pio02": {"ansible_host": "10.0.0.2", "unit_agent_port": 5000}}
    assert units["vars"]["unit_agent_mqtt_url"] == "mqtt://{{ cluster_leader_address }}:1883"
    assert list(inventory["children"]["leader"]["hosts"]) == ["leader.local"]
    assert inventory["vars"]["cluster_leader_address"] == "leader.local"
    assert "vault_cluster_token" in answer.text  # secrets stay vault variables


def test_setup_steps_need_an_admin(app: object, client: FlaskClient) -> None:
    for method, path in (("POST", "/api/setup/broker_check"), ("POST", "/api/setup/ssh_key")):
        assert client.open(path, method=method).status_code == 401

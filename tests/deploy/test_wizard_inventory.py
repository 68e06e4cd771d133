"""The setup wizard's inventory download, as an operator saves it, drives site.yml: every host of it resolves
every variable the roles need (secrets from the vault variables it names), checked with `--check --diff`
on a fresh root per host."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest

from leader import inventory

from .harness import ANSIBLE_DIR, BASE_PYTHON, WHEELHOUSE, playbook, require

pytestmark = pytest.mark.deploy

VAULT = {
    "vault_leader_secret_key": "wizard-key-Tq8Wm3Zr6Yp1Nc4Hv",
    "vault_cluster_token": "wizard-token-Jf5Ks2Ld9Qa7Ux0E",
    "vault_mqtt_passwords": {
        "leader": "mqtt-l-Rw4Ty8Ui",
        "pio01": "mqtt-1-Op3As7Df",
        "pio02": "mqtt-2-Gh6Jk1Lz",
    },
}


def local(root: Path) -> dict[str, object]:
    """What makes a host of the download converge into `root` here: connection, paths, no systemd."""
    settings: dict[str, object] = {"ansible_connection": "local", "ansible_python_interpreter": BASE_PYTHON}
    for role in ("broker", "leader", "unit_agent"):
        settings |= {f"{role}_root": str(root), f"{role}_manage_services": False}
        settings |= {f"{role}_user": "root", f"{role}_group": "root"}
    return settings | {
        "leader_python": BASE_PYTHON,
        "unit_agent_python": BASE_PYTHON,
        "leader_wheelhouse": str(WHEELHOUSE),
        "unit_agent_wheelhouse": str(WHEELHOUSE),
    }


def test_the_wizards_inventory_drives_site_yml(tmp_path: Path) -> None:
    require("ansible-playbook")
    units = [
        SimpleNamespace(name="pio01", address="pio01", port=4999),
        SimpleNamespace(name="pio02", address="192.168.1.32", port=5000),
    ]
    folder = tmp_path / "inventory"
    folder.mkdir()
    downloaded = inventory.build(
        units, "leader.local", "mqtt://leader.local:1883", 4999, "~/.ssh/id", "0.1.0"
    )
    (folder / "inventory.yml").write_text(downloaded)
    # beside it (an inventory folder merges its files), this machine's connection and roots per host
    hosts = {"leader.local": "leader", "pio01": "units", "pio02": "units"}
    overlay: dict[str, dict[str, dict[str, object]]] = {g: {"hosts": {}} for g in set(hosts.values())}
    for host, group in hosts.items():
        overlay[group]["hosts"][host] = local(tmp_path / "roots" / host)
    (folder / "local.yml").write_text(json.dumps({"all": {"children": overlay}}))
    run = playbook(ANSIBLE_DIR / "site.yml", folder, VAULT, tmp_path / "work", "--check", "--diff")
    assert run.rc == 0, run.output[-8000:]
    recap = run.recap()
    assert set(recap) == set(hosts), run.output[-4000:]
    assert all(r["failed"] == 0 and r["unreachable"] == 0 and r["changed"] > 0 for r in recap.values())
    # the units follow the leader's clock at the address the wizard wrote; no secret is printed
    assert run.output.count("server leader.local") >= 2, run.output[-6000:]
    printed = [
        v for v in (*VAULT["vault_mqtt_passwords"].values(), VAULT["vault_cluster_token"]) if v in run.output
    ]
    assert not printed and VAULT["vault_leader_secret_key"] not in run.output

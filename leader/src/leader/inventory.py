"""An Ansible inventory of the cluster's units, for the setup wizard's download: the shape of
deploy/ansible/inventory.example.yml (groups `leader` and `units`, the roles' prefixed variables), with the
secrets left as the vault variables the deploy README describes, never their values.

A unit's inventory name is its unit name (the unit_agent role derives the unit and its broker account from
`inventory_hostname_short`); `ansible_host` says where to reach it when its address differs.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from urllib.parse import urlparse

import yaml

HEADER = """\
# Ansible inventory of this cluster's units, made by the leader's setup wizard.
# Save as deploy/ansible/inventory.yml; keep the secrets in an ansible-vault file
# (group_vars/all/vault.yml: vault_leader_secret_key, vault_cluster_token, vault_mqtt_passwords).
# The rollout logs in with the leader's SSH key (its public half goes in each unit's authorized_keys).
"""


def build(
    units: Iterable[Any], leader_host: str, mqtt_url: str, agent_port: int, key_file: str, version: str
) -> str:
    broker_port = urlparse(mqtt_url).port or 1883
    hosts: dict[str, Any] = {}
    for unit in units:
        entry: dict[str, Any] = {}
        if unit.address and unit.address != unit.name:
            entry["ansible_host"] = unit.address
        if unit.port and unit.port != agent_port:
            entry["unit_agent_port"] = unit.port
        hosts[unit.name] = entry or None
    inventory = {
        "all": {
            "vars": {
                "ansible_user": "pioreactor",
                "ansible_ssh_private_key_file": key_file,
                "cluster_version": version,
                "cluster_leader_address": leader_host,
                "broker_passwords": "{{ vault_mqtt_passwords }}",
            },
            "children": {
                "leader": {
                    "hosts": {
                        leader_host: {
                            "leader_version": "{{ cluster_version }}",
                            "leader_secret_key": "{{ vault_leader_secret_key }}",
                            "leader_cluster_token": "{{ vault_cluster_token }}",
                            "leader_mqtt_password": "{{ vault_mqtt_passwords['leader'] }}",
                        }
                    }
                },
                "units": {
                    "vars": {
                        "unit_agent_version": "{{ cluster_version }}",
                        "unit_agent_mqtt_url": f"mqtt://{{{{ cluster_leader_address }}}}:{broker_port}",
                        "unit_agent_mqtt_password": "{{ vault_mqtt_passwords[inventory_hostname_short] }}",
                        "unit_agent_cluster_token": "{{ vault_cluster_token }}",
                        "unit_agent_time_server": "{{ cluster_leader_address }}",
                    },
                    "hosts": hosts,
                },
            },
        }
    }
    body = yaml.safe_dump(inventory, sort_keys=False, default_flow_style=False, width=120)
    return HEADER + "---\n" + body

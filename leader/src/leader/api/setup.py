"""/api/setup: the wizard's steps (admin): the broker check, the rollout's SSH key and the units' Ansible
inventory, and its last step. They stay usable after setup."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, request

from cluster_schema.errors import NotFound
from cluster_schema.openapi import Route
from cluster_schema.people import SetupState
from cluster_schema.rollout import BrokerCheck, RolloutKey

from .. import __version__, auth, broker_check, inventory, rollout_key, setup
from ..db import audit, get_db
from ..db import units as units_db
from ..http import json_response

bp = Blueprint("setup", __name__)


def leader_host() -> str:
    """The leader's host as this browser reached it (the units reach it the same way, usually)."""
    host = request.host
    return host if host.endswith("]") or ":" not in host else host.rsplit(":", 1)[0]


@bp.post("/setup/complete")
@auth.requires("admin")
def complete() -> Response:
    setup.complete(get_db(), auth.principal() or "")
    return json_response(SetupState(setup_complete=True))


@bp.post("/setup/broker_check")
@auth.requires("admin")
def check_broker() -> Response:
    """Connects with the leader's own MQTT_URL and credentials; 200 either way, `ok` and the reason."""
    return json_response(broker_check.check(current_app.config["MQTT_URL"]))


@bp.get("/setup/ssh_key")
@auth.requires("admin")
def get_ssh_key() -> Response:
    found = rollout_key.read(rollout_key.key_path())
    if found is None:
        raise NotFound("No rollout SSH key yet: POST /api/setup/ssh_key makes one.")
    return json_response(found)


@bp.post("/setup/ssh_key")
@auth.requires("admin")
@auth.dangerous
def rotate_ssh_key() -> Response:
    """Makes the key pair, or a new one in its place (the units' authorized_keys need the new line)."""
    existed = rollout_key.read(rollout_key.key_path()) is not None
    made = rollout_key.generate(rollout_key.key_path(), f"pioreactor-leader-rollout@{leader_host()}")
    audit.record(
        get_db(), auth.principal() or "", "ssh_key.rotate" if existed else "ssh_key.create", made.fingerprint
    )
    return json_response(made, 201)


@bp.get("/setup/inventory")
@auth.requires("admin")
def get_inventory() -> Response:
    cfg = current_app.config
    text = inventory.build(
        units_db.list_units(get_db()),
        leader_host(),
        cfg["MQTT_URL"],
        int(cfg["AGENT_PORT"]),
        str(rollout_key.key_path()),
        __version__,
    )
    headers = {"Content-Disposition": 'attachment; filename="inventory.yml"'}
    return Response(text, mimetype="application/yaml", headers=headers)


ROUTES = [
    Route("POST", "/api/setup/complete", None, SetupState, summary="The wizard's last step (admin)"),
    Route(
        "POST",
        "/api/setup/broker_check",
        None,
        BrokerCheck,
        summary="Connect to the leader's MQTT broker with its credentials: ok, or the reason (within ~5 s)",
    ),
    Route("GET", "/api/setup/ssh_key", None, RolloutKey, summary="The rollout's public key (404: none yet)"),
    Route(
        "POST",
        "/api/setup/ssh_key",
        None,
        RolloutKey,
        201,
        "Make the rollout's ed25519 key pair, or rotate it (dangerous); the private key is never served",
        errors=(500,),
    ),
    Route(
        "GET",
        "/api/setup/inventory",
        None,
        dict[str, Any],  # a YAML mapping (schemathesis parses YAML answers)
        summary="An Ansible inventory (YAML) of the units, as deploy/ansible expects",
        media_type="application/yaml",
        headers=("Content-Disposition",),
    ),
]

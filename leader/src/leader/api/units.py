"""/api/units: the cluster's units, and a check that one is reachable, trusts us and is seen on MQTT."""

from __future__ import annotations

import time

from flask import Blueprint, Response, current_app

from cluster_schema.errors import UnitFailed, UnitTimeout
from cluster_schema.leader import Unit, UnitCheck, UnitCreate, UnitPatch
from cluster_schema.names import check_unit
from cluster_schema.openapi import Route

from .. import fanout
from ..agent_client import AgentError
from ..auth import address, principal, requires
from ..db import audit, get_db
from ..db import units as units_db
from ..extensions import agents
from ..http import body, json_response
from ..operations.actions import Context
from ..operations.actions import check_unit as check_call

bp = Blueprint("units", __name__)


@bp.get("/units")
@requires("viewer")
def list_units() -> Response:
    return json_response(units_db.list_units(get_db()))


@bp.post("/units")
@requires("admin")
def add_unit() -> Response:
    new = body(UnitCreate)
    unit = units_db.add(get_db(), new.name, new.address, new.port, new.model)
    return json_response(unit, 201, {"Location": f"/api/units/{unit.name}"})


@bp.get("/units/<unit>")
@requires("viewer")
def get_unit(unit: str) -> Response:
    return json_response(units_db.get(get_db(), check_unit(unit)))


@bp.patch("/units/<unit>")
@requires("admin")
def patch_unit(unit: str) -> Response:
    patch = body(UnitPatch)
    # the same rules as when the unit was added
    UnitCreate(name=unit, port=patch.port or 4999, address=patch.address).validate()
    updated = units_db.update(
        get_db(),
        check_unit(unit),
        address=patch.address,
        port=patch.port,
        model=patch.model,
        active=patch.active,
    )
    return json_response(updated)


@bp.delete("/units/<unit>")
@requires("admin")
def remove_unit(unit: str) -> Response:
    units_db.remove(get_db(), check_unit(unit))
    audit.record(get_db(), principal() or "", "unit.delete", unit, address=address())
    return Response(status=204)


CHECK_SECONDS = 5.0


@bp.post("/units/<unit>/check")
@requires("admin")
def check(unit: str) -> Response:
    """One unit, answered now: 502/504 when the agent fails or times out (the contract for one-unit calls)."""
    db = get_db()
    found = units_db.get(db, check_unit(unit))
    address = units_db.addresses(db, [found.name])[found.name]
    # a person waits for this answer: at most CHECK_SECONDS, whatever the agents' read timeout is
    deadline = time.monotonic() + min(CHECK_SECONDS, float(current_app.config["AGENT_READ_TIMEOUT"]))
    try:
        ctx = Context(client=agents(), params={})
        outcome = fanout.one(lambda unit, dl: check_call(ctx, unit, dl), address, deadline)
    except AgentError as exc:
        raise (UnitTimeout if exc.timeout else UnitFailed)(f"{found.name}: {exc}") from None
    found = units_db.get(db, found.name)
    return json_response(
        UnitCheck(
            unit=found.name,
            reachable=True,
            token_accepted=True,
            agent=outcome.detail,
            versions=outcome.result,
            presence=found.presence,
            last_seen=found.last_seen,
        )
    )


ROUTES = [
    Route("GET", "/api/units", None, list[Unit], summary="List units"),
    Route("POST", "/api/units", UnitCreate, Unit, 201, "Add a unit", errors=(409,), headers=("Location",)),
    Route("GET", "/api/units/<unit>", None, Unit, summary="One unit"),
    Route("PATCH", "/api/units/<unit>", UnitPatch, Unit, summary="Change a unit"),
    Route("DELETE", "/api/units/<unit>", None, None, 204, "Remove a unit (its history stays)"),
    Route(
        "POST",
        "/api/units/<unit>/check",
        None,
        UnitCheck,
        summary="Reachable, token accepted, seen on MQTT; 502/504 when the agent fails or times out",
        errors=(502, 504),
    ),
]

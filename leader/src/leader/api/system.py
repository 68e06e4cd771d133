"""/api/units/<unit>/system/<action>: reboot, shutdown or update one unit or `$all` (an operation)."""

from __future__ import annotations

from typing import Literal

from flask import Blueprint, Response

from cluster_schema.errors import NotFound
from cluster_schema.leader import OperationAnswer
from cluster_schema.names import ALL_UNITS, UnitName, check_unit
from cluster_schema.openapi import WAIT, Route, enum

from ..auth import dangerous, requires
from ..db import get_db
from ..db import units as units_db
from ..operations.actions import SYSTEM_ACTIONS
from ..operations.submit import start

bp = Blueprint("system", __name__)


@bp.post("/units/<unit>/system/<action>")
@requires("admin")
@dangerous
def system_action(unit: str, action: str) -> Response:
    if action not in SYSTEM_ACTIONS:
        raise NotFound(f"No system action {action!r}: one of {', '.join(SYSTEM_ACTIONS)}.")
    db = get_db()
    all_units = unit == ALL_UNITS
    targets = units_db.active_names(db) if all_units else [units_db.get(db, check_unit(unit)).name]
    return start(f"system.{action}", {"action": action}, targets)


ROUTES = [
    Route(
        "POST",
        "/api/units/<unit>/system/<action>",
        None,
        OperationAnswer,
        202,
        "reboot|shutdown|update one unit or `$all` (409: no active unit)",
        errors=(409,),
        params={"unit": UnitName | Literal["$all"], "action": enum(SYSTEM_ACTIONS)},
        query={"wait": WAIT},
        headers=("Location",),
    ),
]

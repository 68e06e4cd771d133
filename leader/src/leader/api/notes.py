"""POST /api/experiments/<exp>/logs: a manual note in the experiment's log (`source: "user"`)."""

from __future__ import annotations

from flask import Blueprint, Response

from cluster_schema.additions import NoteCreate
from cluster_schema.errors import Conflict
from cluster_schema.leader import LogEntry
from cluster_schema.names import check_experiment
from cluster_schema.openapi import Route

from .. import auth
from ..db import experiments as exp_db
from ..db import get_db, transaction
from ..db import logs as logs_db
from ..http import body, json_response

bp = Blueprint("notes", __name__)


def author() -> str:
    """Who wrote the note, as the request's credentials say (the one place that asks)."""
    return auth.principal() or "unknown"


@bp.post("/experiments/<exp>/logs")
@auth.requires("operator")
def add_note(exp: str) -> Response:
    check_experiment(exp)
    note = body(NoteCreate)
    db = get_db()
    with transaction(db):
        assigned = exp_db.assigned_units(db, exp)  # 404 for an unknown experiment
        if note.unit is not None and note.unit not in assigned:
            raise Conflict(f"Unit {note.unit!r} at `$.unit` is not assigned to experiment {exp!r}.")
        entry = logs_db.add_note(db, exp, note.message, note.level, note.unit, author())
    return json_response(entry, 201)


ROUTES = [
    Route(
        "POST",
        "/api/experiments/<exp>/logs",
        NoteCreate,
        LogEntry,
        201,
        "Add a manual note to the experiment's log (source `user`, with its author; 409: `unit` is not "
        "assigned to the experiment)",
        errors=(409,),
    )
]

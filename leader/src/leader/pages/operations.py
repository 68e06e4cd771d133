"""`/operations` (filtered list) and `/operations/<id>` (steps, progress, lines streaming live)."""

from __future__ import annotations

from flask import Blueprint, render_template, request

from cluster_schema.leader import FINISHED

from ..api.operations import STATUSES
from ..auth import requires
from ..db import activity, get_db
from ..db import operations as ops_db

bp = Blueprint("operations", __name__, url_prefix="/operations")

PAGE = 50
RETRYABLE = ("partial", "interrupted", "failed")


@bp.get("")
@requires("viewer")
def index() -> str:
    db = get_db()
    chosen = {k: (request.args.get(k) or None) for k in ("kind", "status", "who")}
    if chosen["status"] not in (None, *STATUSES):
        chosen["status"] = None
    ops = activity.operations(db, **chosen, before=request.args.get("before") or None, limit=PAGE)
    return render_template(
        "operations.html",
        ops=ops,
        chosen=chosen,
        kinds=activity.distinct(db, "kind"),
        statuses=STATUSES,
        whos=activity.distinct(db, "requested_by"),
        next_before=ops[-1].id if len(ops) == PAGE else None,
    )


@bp.get("/<op_id>")
@requires("viewer")
def show(op_id: str) -> str:
    db = get_db()
    op = ops_db.get(db, op_id)
    lines = ops_db.lines(db, op_id, 0, limit=5000)
    done = sum(1 for s in op.steps if s.status in ("ok", "failed"))
    who = activity.requested_by(db, op_id)
    return render_template(
        "operation.html",
        op=op,
        lines=lines,
        done=done,
        who=who,
        finished=op.status in FINISHED,
        retryable=op.status in RETRYABLE and any(s.status != "ok" for s in op.steps),
    )

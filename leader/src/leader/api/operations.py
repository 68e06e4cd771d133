"""/api/operations: list, one, cancel, and a live event stream read from the store."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from typing import Annotated

from flask import Blueprint, Response
from msgspec import Meta

from cluster_schema.errors import BadRequest, Conflict
from cluster_schema.leader import FINISHED, OperationAnswer, OperationsPage
from cluster_schema.openapi import WAIT, Route, enum, sse_event

from .. import sse
from ..auth import requires
from ..db import get_db
from ..db import operations as ops_db
from ..http import json_response, query_arg, query_int
from ..operations.submit import accepted, start

bp = Blueprint("operations", __name__)

OperationId = Annotated[str, Meta(pattern=r"^[0-9a-f]{32}$")]
STATUSES = ("queued", "running", *sorted(FINISHED))


@bp.get("/operations")
@requires("viewer")
def list_operations() -> Response:
    for name in ("kind", "before"):
        if len(query_arg(name) or "") > 100:
            raise BadRequest(f"Too long at `?{name}`: 100 characters at most.")
    status = query_arg("status") or None
    if status is not None and status not in STATUSES:
        raise BadRequest(f"Invalid `?status`: one of {', '.join(STATUSES)}.")
    ops = ops_db.list_operations(
        get_db(),
        kind=query_arg("kind") or None,
        status=status,
        before=query_arg("before") or None,
        limit=query_int("limit", 50, lo=1, hi=500),
    )
    return json_response(OperationsPage(operations=ops, next=ops[-1].id if ops else None))


@bp.get("/operations/<op_id>")
@requires("viewer")
def get_operation(op_id: str) -> Response:
    return json_response(OperationAnswer(operation=ops_db.get(get_db(), op_id)))


@bp.post("/operations/<op_id>/cancel")
@requires("operator")
def cancel(op_id: str) -> Response:
    db = get_db()
    status = ops_db.request_cancel(db, op_id)
    if status not in ("queued", "running", "cancelled"):
        raise Conflict(f"Operation {op_id} already finished ({status}).")
    return accepted(ops_db.get(db, op_id))


RETRYABLE = ("partial", "interrupted", "failed")


@bp.post("/operations/<op_id>/retry")
@requires("operator")
def retry(op_id: str) -> Response:
    """A new operation of the same kind and params on the units whose step did not end `ok`."""
    op = ops_db.get(get_db(), op_id)
    if op.status not in RETRYABLE:
        raise Conflict(f"Operation {op_id} is {op.status}: only {', '.join(RETRYABLE)} ones can be retried.")
    units = [s.unit for s in op.steps if s.status != "ok"]
    if not units:
        raise Conflict(f"Operation {op_id} has no unfinished unit to retry.")
    return start(op.kind, op.params, units)


@bp.get("/operations/<op_id>/events")
@requires("viewer")
def events(op_id: str) -> Response:
    """SSE: `state` (the operation), `line` (id = line seq), `step`, `done`. Polls the store, so any
    web worker can serve any stream; `Last-Event-ID` resumes after that line."""
    ops_db.get(get_db(), op_id)  # 404 before the stream starts
    after = sse.last_event_id("a line number") or 0
    return sse.response(lambda db: _stream(db, op_id, after))


def _stream(db: sqlite3.Connection, op_id: str, after: int) -> Iterator[str]:
    op = ops_db.get(db, op_id)
    yield sse.event("state", op)
    sent = {s.unit: (s.status, s.detail) for s in op.steps}
    status: str = op.status

    def poll_once() -> tuple[list[str], bool]:
        nonlocal after, status
        out = []
        current, _ = ops_db.status(db, op_id)  # read first: what was written before it is sent below
        for line in ops_db.lines(db, op_id, after):
            after = line.seq
            out.append(sse.event("line", line, line.seq))
        for step in ops_db.get(db, op_id).steps:
            if sent.get(step.unit) != (step.status, step.detail):
                sent[step.unit] = (step.status, step.detail)
                out.append(sse.event("step", step))
        if current in FINISHED:
            out.append(sse.event("done", ops_db.get(db, op_id)))
            return out, True
        if current != status:
            status = current
            out.append(sse.event("state", ops_db.get(db, op_id)))
        return out, False

    yield from sse.follow(poll_once)


_ID = {"op_id": OperationId}
LINE = {"type": "integer", "minimum": 0, "maximum": 10**18 - 1, "description": "resume after this line"}
ROUTES = [
    Route(
        "GET",
        "/api/operations",
        None,
        OperationsPage,
        summary="Operations, newest first; `before` = a page's `next` (an operation id) or a time",
        query={
            "kind": {"type": "string", "maxLength": 100},
            "status": enum(STATUSES),
            "before": {"type": "string", "maxLength": 100},
            "limit": {"type": "integer", "minimum": 1, "maximum": 500},
        },
    ),
    Route("GET", "/api/operations/<op_id>", None, OperationAnswer, summary="One operation", params=_ID),
    Route(
        "POST",
        "/api/operations/<op_id>/cancel",
        None,
        OperationAnswer,
        202,
        "Cancel (409 when it already finished)",
        errors=(409,),
        params=_ID,
        query={"wait": WAIT},
        headers=("Location",),
    ),
    Route(
        "POST",
        "/api/operations/<op_id>/retry",
        None,
        OperationAnswer,
        202,
        "Retry the unfinished units as a new operation (409 unless partial, interrupted or failed)",
        errors=(409,),
        params=_ID,
        query={"wait": WAIT},
        headers=("Location",),
    ),
    Route(
        "GET",
        "/api/operations/<op_id>/events",
        None,
        sse_event(("state", "line", "step", "done")),
        summary="Server-sent events: state, line (id = line seq; `Last-Event-ID` resumes), step, done",
        params=_ID,
        query={"after": LINE},
        request_headers={"Last-Event-ID": LINE},
        media_type="text/event-stream",
    ),
]

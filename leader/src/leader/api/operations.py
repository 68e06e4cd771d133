"""/api/operations: list, one, cancel, and a live event stream read from the store."""

from __future__ import annotations

import re
import sqlite3
import time
from collections.abc import Iterator
from typing import Annotated

from flask import Blueprint, Response, current_app, request, stream_with_context
from msgspec import Meta

from cluster_schema import codec
from cluster_schema.errors import BadRequest, Conflict
from cluster_schema.leader import FINISHED, OperationAnswer, OperationsPage
from cluster_schema.openapi import WAIT, Route, enum, sse_event

from ..db import connect, get_db
from ..db import operations as ops_db
from ..http import json_response, query_arg, query_int
from ..operations.submit import accepted

bp = Blueprint("operations", __name__)

OperationId = Annotated[str, Meta(pattern=r"^[0-9a-f]{32}$")]
STATUSES = ("queued", "running", *sorted(FINISHED))
STREAM_MAX_SECONDS = 3600  # a stream of an operation that never ends still ends
KEEPALIVE_SECONDS = 15


@bp.get("/operations")
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
def get_operation(op_id: str) -> Response:
    return json_response(OperationAnswer(operation=ops_db.get(get_db(), op_id)))


@bp.post("/operations/<op_id>/cancel")
def cancel(op_id: str) -> Response:
    db = get_db()
    status = ops_db.request_cancel(db, op_id)
    if status not in ("queued", "running", "cancelled"):
        raise Conflict(f"Operation {op_id} already finished ({status}).")
    return accepted(ops_db.get(db, op_id))


def _event(name: str, data: object, event_id: int | None = None) -> str:
    head = f"id: {event_id}\n" if event_id is not None else ""
    return f"{head}event: {name}\ndata: {codec.encode(data).decode()}\n\n"


@bp.get("/operations/<op_id>/events")
def events(op_id: str) -> Response:
    """SSE: `state` (the operation), `line` (id = line seq), `step`, `done`. Polls the store, so any
    web worker can serve any stream; `Last-Event-ID` resumes after that line."""
    ops_db.get(get_db(), op_id)  # 404 before the stream starts
    given = [v for v in (request.headers.get("Last-Event-ID"), query_arg("after")) if v]
    if any(not re.fullmatch(r"[0-9]{1,18}", v.strip()) for v in given):
        raise BadRequest("Invalid `Last-Event-ID` or `?after`: a line number.")
    after = int(given[0]) if given else 0  # a reconnecting browser's header wins
    path, poll = current_app.config["DATABASE"], float(current_app.config["SSE_POLL"])

    def stream() -> Iterator[str]:
        db = connect(path)  # the stream's own connection: it outlives the request context's
        try:
            yield from _stream(db, op_id, after, poll)
        finally:
            db.close()

    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    return Response(stream_with_context(stream()), mimetype="text/event-stream", headers=headers)


def _stream(db: sqlite3.Connection, op_id: str, after: int, poll: float) -> Iterator[str]:
    op = ops_db.get(db, op_id)
    yield _event("state", op)
    sent = {s.unit: (s.status, s.detail) for s in op.steps}
    status: str = op.status
    started = last_sent = time.monotonic()
    while True:
        current, _ = ops_db.status(db, op_id)  # read first: what was written before it is sent below
        for line in ops_db.lines(db, op_id, after):
            after = line.seq
            yield _event("line", line, line.seq)
            last_sent = time.monotonic()
        for step in ops_db.get(db, op_id).steps:
            if sent.get(step.unit) != (step.status, step.detail):
                sent[step.unit] = (step.status, step.detail)
                yield _event("step", step)
                last_sent = time.monotonic()
        if current in FINISHED:
            yield _event("done", ops_db.get(db, op_id))
            return
        if current != status:
            status = current
            yield _event("state", ops_db.get(db, op_id))
        if time.monotonic() - started > STREAM_MAX_SECONDS:
            return
        if time.monotonic() - last_sent > KEEPALIVE_SECONDS:
            yield ": keep-alive\n\n"
            last_sent = time.monotonic()
        time.sleep(poll)


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

"""Start an operation from a request: store it `queued`, enqueue it for the worker, answer 202."""

from __future__ import annotations

import getpass
import time
from collections.abc import Callable
from typing import Any

from flask import Response, has_request_context, request

from cluster_schema.base import Wire
from cluster_schema.errors import Conflict
from cluster_schema.leader import FINISHED, Operation, OperationAnswer

from .. import tasks
from ..auth import principal
from ..db import get_db
from ..db import operations as ops_db
from ..http import MAX_WAIT, json_response, query_float

WAIT_POLL = 0.05


def submit(
    kind: str,
    params: dict[str, Any],
    targets: list[str],
    trigger: str = "api",
    *,
    needs_targets: bool = True,
    requested_by: str | None = None,
    enqueue: bool = True,
) -> Operation:
    """Store the operation `queued` and enqueue the task for its kind. Unit-less kinds (export) opt out.

    `requested_by` defaults to the current request's principal (`user:<name>`, `token:<id>`,
    `development`), outside a request to `cli:<os user>`; the scheduler passes `schedule:<id>`, a profile
    run `profile:<operation id>`. `enqueue=False`: the caller stores it inside its own transaction and
    enqueues it (`tasks.enqueue`) after the commit (a worker start-up re-enqueues queued operations).
    """
    if needs_targets and not targets:
        # a well-formed request that the cluster's state makes empty (no active unit assigned)
        raise Conflict("No target units: the operation would do nothing.", code="no_targets")
    op = ops_db.create(get_db(), kind, params, targets, trigger, requested_by or requester())
    if not enqueue:
        return op
    tasks.enqueue(op.id, kind)
    return ops_db.get(get_db(), op.id)  # a fast worker may have started it already


def wait_finished(op_id: str, seconds: float) -> Operation:
    """Poll the store until the operation finishes or `seconds` pass (any web worker can do this)."""
    db = get_db()
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and ops_db.status(db, op_id)[0] not in FINISHED:
        time.sleep(WAIT_POLL)
    return ops_db.get(db, op_id)


def accepted(op: Operation, answer: Callable[[Operation], Wire] | None = None) -> Response:
    """The 202 answer; honours `?wait=SECONDS` (at most 30). `answer` builds a richer body around the
    (possibly finished) operation, e.g. a profile run's warnings."""
    wait = query_float("wait", 0.0, hi=MAX_WAIT) or 0.0
    if wait > 0:
        op = wait_finished(op.id, wait)
    body = answer(op) if answer is not None else OperationAnswer(operation=op)
    # always 202, finished or not: the caller reads `operation.status`
    return json_response(body, 202, {"Location": f"/api/operations/{op.id}"})


def start(kind: str, params: dict[str, Any], targets: list[str]) -> Response:
    """Validate `?wait` before anything is queued, then submit and answer."""
    query_float("wait", 0.0, hi=MAX_WAIT)
    return accepted(submit(kind, params, targets, trigger()))


def requester() -> str:
    if has_request_context():
        return principal() or "unknown"
    return f"cli:{getpass.getuser()}"


def trigger() -> str:
    return "api" if request.headers.get("Authorization") else "ui"

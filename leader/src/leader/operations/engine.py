"""Run one operation in the leader worker: fan out its action, record each step as it arrives, finish.

Final status: every step ok → `succeeded`; some ok → `partial`; none → `failed`; a cancellation →
`cancelled`. Operations left `running` by a crashed worker become `interrupted` at the next start-up
(`recover`): the agents may or may not have acted, so the operation says so instead of guessing.
"""

from __future__ import annotations

import logging
import time

from flask import Flask, current_app
from huey import SqliteHuey

from .. import tasks
from ..db import get_db
from ..db import operations as ops_db
from ..db import units as units_db
from ..extensions import agents
from ..fanout import FanOut, Outcome
from ..unit_address import UnitAddress
from .actions import ACTIONS, Context

log = logging.getLogger(__name__)


def register(queue: SqliteHuey, app: Flask) -> None:
    """The worker's task for every fan-out kind; web processes enqueue it."""
    tasks.register_task(queue, app, "run_operation", tasks.FANOUT, run)


def run(op_id: str) -> None:
    """Run a fan-out operation. Kinds without an action here (e.g. `export`) have their own task."""
    db = get_db()
    if ops_db.get(db, op_id, with_steps=False).kind not in ACTIONS:
        log.error("operation %s: no fan-out action for its kind; left to its own task", op_id)
        return
    if not ops_db.mark_started(db, op_id):
        return  # cancelled while queued, or already handled
    try:
        _run(op_id)
    except Exception as exc:
        log.exception("operation %s failed unexpectedly", op_id)
        ops_db.add_line(db, op_id, "error", f"internal error: {exc!r}")
        ops_db.finish(db, op_id, "failed", "internal error in the leader")


def _run(op_id: str) -> None:
    db = get_db()
    op = ops_db.get(db, op_id, with_steps=False)
    action = ACTIONS[op.kind]
    addresses = units_db.addresses(db, op.targets)
    for unit in op.targets:
        if unit not in addresses:
            ops_db.set_step(db, op_id, unit, "failed", "unit is not registered with the leader")
    config = current_app.config
    seconds = float(config["OPERATION_DEADLINES"].get(op.kind) or config["OPERATION_DEADLINE"])
    deadline = time.monotonic() + seconds
    ctx = Context(client=agents(), params=op.params)
    if action.prepare is not None:
        ctx.data = action.prepare(db, op.params)
    ops_db.steps_running(db, op_id)
    ops_db.add_line(db, op_id, "info", f"started on {len(addresses)} unit(s), deadline {seconds:g}s")

    def record(batch: list[Outcome]) -> None:  # one commit per batch of arrivals, not two per unit
        ops_db.record_steps(db, op_id, [(o.unit, o.ok, o.detail) for o in batch])
        if action.recorded is not None:
            action.recorded(db, op_id, batch)

    def cancelled() -> bool:
        if not ctx.cancel.is_set() and ops_db.status(db, op_id)[1]:
            ctx.cancel.set()  # seen by calls still following a task on an agent
        return ctx.cancel.is_set()

    fan: FanOut[UnitAddress] = FanOut(
        lambda unit, dl: action.call(ctx, unit, dl), workers=current_app.config["FANOUT_WORKERS"]
    )
    fan.run([addresses[u] for u in op.targets if u in addresses], deadline, record, cancelled)
    if action.after is not None and not ctx.cancel.is_set():
        action.after(db, op_id)
    finish(op_id, cancelled=ctx.cancel.is_set())


def finish(op_id: str, *, cancelled: bool = False) -> str:
    db = get_db()
    counts = ops_db.step_counts(db, op_id)
    ok, total = counts.get("ok", 0), sum(counts.values())
    if cancelled:
        status = "cancelled"
    elif ok == total:
        status = "succeeded"
    elif ok:
        status = "partial"
    else:
        status = "failed"
    ops_db.add_line(
        db, op_id, "info" if status == "succeeded" else "warning", f"{status}: {ok}/{total} unit(s) ok"
    )
    ops_db.finish(db, op_id, status, status)
    return status


def recover() -> list[str]:
    """Worker start-up: `running` leftovers become `interrupted`; `queued` ones are queued again.

    Queueing again is safe: `mark_started` lets exactly one task start an operation, so an operation whose
    message is still in Huey's queue runs once, and one whose message was lost (a crash between the store
    and the queue) runs at all.
    """
    db = get_db()
    ids = ops_db.interrupt_running(db)
    for op_id in ids:
        log.warning("operation %s was running when the worker stopped; marked interrupted", op_id)
    for op_id, kind in ops_db.queued(db):
        tasks.enqueue(op_id, kind)
    return ids

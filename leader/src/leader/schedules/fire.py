"""One firing of a schedule: claim (schedule, due time) in the store, then submit the operation once.

The claim is an INSERT into `schedule_firings`, whose primary key is (schedule id, due time): whichever
scheduler reaches a due time first — after a restart, a freeze, or a second worker started by mistake —
inserts it; every other attempt fails the insert and submits nothing. So a due time yields at most one
operation. (A crash between the claim and the submission leaves the firing recorded without an operation:
the rule is "never twice", not "retry".)
"""

from __future__ import annotations

import logging
from datetime import datetime

from flask import current_app

from cluster_schema import codec
from cluster_schema.errors import ApiError
from cluster_schema.leader import Operation
from cluster_schema.schedules import Action

from ..db import get_db, now
from ..db import operations as ops_db
from ..db import schedules as sched_db
from ..operations.submit import submit
from ..profiles import runs as profile_runs
from .actions import Vanished, plan
from .triggers import iso

log = logging.getLogger(__name__)

TRIGGER = "schedule"


def requested_by(schedule_id: int) -> str:
    return f"schedule:{schedule_id}"


def _kind(action: Action) -> str:
    return str(type(action).__struct_config__.tag)


def _failed(schedule_id: int, action: Action, reason: str) -> Operation:
    """A failed operation saying why the firing could not run (no unit was asked anything)."""
    db = get_db()
    params = codec.to_builtins(action)
    params.pop("kind", None)
    op = ops_db.create(db, _kind(action), params, [], TRIGGER, requested_by(schedule_id))
    ops_db.add_line(db, op.id, "error", f"not run: {reason}")
    ops_db.finish(db, op.id, "failed", reason)
    return ops_db.get(db, op.id)


def fire(
    schedule_id: int, due: datetime | None, *, manual: bool = False, by: str | None = None
) -> Operation | None:
    """Run one firing in an app context (worker: due time from the scheduler; run-now: `due=None`).

    Returns the operation, or None when nothing was due: the schedule is gone or disabled, or this due time
    was fired before.
    """
    db = get_db()
    row = sched_db.find(db, schedule_id)
    if row is None or (not row.enabled and not manual):
        return None
    due_at = iso(due) if due is not None else now()
    if not sched_db.claim(db, schedule_id, due_at, manual=manual):
        log.info("schedule %d: due time %s already fired; not again", schedule_id, due_at)
        return None
    try:
        p = plan(db, current_app, row.action)
        if p.kind == "profile.run":
            op = profile_runs.start(
                db,
                p.params["experiment"],
                p.params["profile"],
                dry_run=False,
                trigger=TRIGGER,
                requested_by=requested_by(schedule_id),
            ).operation
        else:
            op = submit(
                p.kind,
                p.params,
                p.targets,
                TRIGGER,
                needs_targets=p.needs_targets,
                requested_by=requested_by(schedule_id),
            )
    except Vanished as exc:
        op = _failed(schedule_id, row.action, str(exc))
    except ApiError as exc:
        op = _failed(schedule_id, row.action, exc.message)
    sched_db.set_operation(db, schedule_id, due_at, op.id)
    what = f"run now by {by or 'unknown'}" if manual else f"due {due_at}"
    ops_db.add_line(db, op.id, "info", f"schedule {schedule_id} ({row.name}): {what}")
    return op

"""/api/schedules: create, read, edit, delete, run now, history; and a preview of a cron expression.

The store is the truth; the leader worker's scheduler (leader.schedules.runner) follows it within
SCHEDULE_POLL seconds. Answers carry `next_run_at` (computed here from the same trigger code the worker
uses) and the last run with its operation's status.
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import msgspec
from flask import Blueprint, Response, current_app

from cluster_schema import cron as cron_syntax
from cluster_schema.errors import BadRequest, Conflict
from cluster_schema.leader import OperationAnswer
from cluster_schema.openapi import Route
from cluster_schema.schedules import (
    CronTrigger,
    DateTrigger,
    Schedule,
    ScheduleCreate,
    ScheduleHistory,
    SchedulePatch,
    SchedulePreview,
    Trigger,
    check_timezone,
)

from ..auth import address, principal, requires
from ..db import audit, get_db, transaction
from ..db import schedules as sched_db
from ..http import body, json_response, query_arg, query_int
from ..operations.submit import accepted
from ..schedules import actions
from ..schedules.fire import fire
from ..schedules.triggers import build, default_timezone, first_due, iso, upcoming

bp = Blueprint("schedules", __name__)


def _with_zone(trigger: Trigger) -> Trigger:
    """A cron trigger without a zone gets the lab's (TIMEZONE) when saved, so the answer says which."""
    if isinstance(trigger, CronTrigger) and trigger.timezone is None:
        return msgspec.structs.replace(trigger, timezone=check_timezone(default_timezone(current_app)))
    return trigger


def _check_fires(trigger: Trigger) -> None:
    stamp = iso(datetime.now(UTC))
    if first_due(build(trigger, stamp, default_timezone(current_app)), None, stamp) is None:
        field = "$.trigger.expression" if isinstance(trigger, CronTrigger) else "$.trigger"
        raise BadRequest(f"The trigger never fires at `{field}` (no matching time in five years).")


def _answer(row: sched_db.Row) -> Schedule:
    db = get_db()
    last = sched_db.last_due(db, row.id)
    next_run: str | None = None
    if row.enabled:
        trig = build(row.trigger, row.active_since, default_timezone(current_app))
        due = first_due(trig, last, row.active_since)
        now = datetime.now(UTC)
        if due is not None and due < now and not isinstance(row.trigger, DateTrigger):
            # overdue (the worker is down or behind): it runs once on return; show the next regular time
            due = trig.get_next_fire_time(None, now)
        next_run = iso(due) if due is not None else None
    return Schedule(
        id=row.id,
        name=row.name,
        trigger=row.trigger,
        action=row.action,
        enabled=row.enabled,
        next_run_at=next_run,
        last_run=sched_db.last_run(db, row.id),
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


@bp.get("/schedules")
@requires("viewer")
def list_schedules() -> Response:
    return json_response([_answer(r) for r in sched_db.all_rows(get_db())])


@bp.post("/schedules")
@requires("operator")
def create_schedule() -> Response:
    req = body(ScheduleCreate)
    trigger = _with_zone(req.trigger)
    _check_fires(trigger)
    db = get_db()
    actions.check(db, current_app, req.action)
    row = sched_db.create(db, req.name, trigger, req.action, req.enabled, principal())
    return json_response(_answer(row), 201, {"Location": f"/api/schedules/{row.id}"})


@bp.get("/schedules/<int:schedule_id>")
@requires("viewer")
def get_schedule(schedule_id: int) -> Response:
    return json_response(_answer(sched_db.get(get_db(), schedule_id)))


@bp.patch("/schedules/<int:schedule_id>")
@requires("operator")
def patch_schedule(schedule_id: int) -> Response:
    req = body(SchedulePatch)
    db = get_db()
    sched_db.get(db, schedule_id)  # 404 before 400s about the body's targets
    trigger = _with_zone(req.trigger) if req.trigger is not None else None
    if trigger is not None:
        _check_fires(trigger)
    if req.action is not None:
        actions.check(db, current_app, req.action)
    row = sched_db.update(
        db, schedule_id, name=req.name, trigger=trigger, action=req.action, enabled=req.enabled
    )
    return json_response(_answer(row))


@bp.delete("/schedules/<int:schedule_id>")
@requires("operator")
def delete_schedule(schedule_id: int) -> Response:
    db = get_db()
    with transaction(db):  # deletions are audited
        name = sched_db.get(db, schedule_id).name
        sched_db.delete(db, schedule_id)
        audit.record(db, principal() or "", "schedule.delete", str(schedule_id), {"name": name}, address())
    return Response(status=204)


@bp.post("/schedules/<int:schedule_id>/run")
@requires("operator")
def run_now(schedule_id: int) -> Response:
    """Fire once now, whatever the trigger and even when disabled: one operation, as a firing would."""
    sched_db.get(get_db(), schedule_id)
    op = fire(schedule_id, None, manual=True, by=principal())
    if op is None:
        raise Conflict(f"Schedule {schedule_id} was just run; try again.")
    return accepted(op)


@bp.get("/schedules/<int:schedule_id>/history")
@requires("viewer")
def history(schedule_id: int) -> Response:
    db = get_db()
    sched_db.get(db, schedule_id)
    firings = sched_db.history(db, schedule_id, _before(), query_int("limit", 50, lo=1, hi=500))
    return json_response(ScheduleHistory(history=firings, next=firings[-1].fired_at if firings else None))


def _before() -> str | None:
    before = query_arg("before") or None
    if before is not None and len(before) > 100:
        raise BadRequest("Too long at `?before`: 100 characters at most.")
    return before


@bp.get("/schedules/preview")
@requires("viewer")
def preview() -> Response:
    """`?expression=<cron>&timezone=<IANA>&count=5`: the next firing times, for the page's editor."""
    expression = query_arg("expression", "") or ""
    if len(expression) > 200:
        raise BadRequest("Too long at `?expression`: 200 characters at most.")
    tz_name = query_arg("timezone") or default_timezone(current_app)
    check_timezone(tz_name, "?timezone")
    cron_syntax.parse(expression, "?expression")
    count = query_int("count", 5, lo=1, hi=50)
    trig = build(CronTrigger(expression=expression, timezone=tz_name), iso(datetime.now(UTC)))
    times = upcoming(trig, datetime.now(UTC), count)
    tz = ZoneInfo(tz_name)
    return json_response(
        SchedulePreview(
            timezone=tz_name,
            next=[iso(t) for t in times],
            local=[t.astimezone(tz).isoformat(timespec="seconds") for t in times],
        )
    )


_TIME = {"type": "string", "maxLength": 100}
ROUTES = [
    Route("GET", "/api/schedules", None, list[Schedule], summary="Every schedule"),
    Route(
        "POST",
        "/api/schedules",
        ScheduleCreate,
        Schedule,
        201,
        "Create a schedule (400 also when its experiment, job or profile is unknown)",
    ),
    # an id beyond SQLite's INTEGER fails the URL's int converter: Werkzeug answers 405 (documented)
    Route("GET", "/api/schedules/<int:schedule_id>", None, Schedule, summary="One schedule", errors=(405,)),
    Route(
        "PATCH",
        "/api/schedules/<int:schedule_id>",
        SchedulePatch,
        Schedule,
        summary="Edit, enable or disable (400 also when its experiment, job or profile is unknown)",
        errors=(405,),
    ),
    Route("DELETE", "/api/schedules/<int:schedule_id>", None, None, 204, "Delete a schedule", errors=(405,)),
    Route(
        "POST",
        "/api/schedules/<int:schedule_id>/run",
        None,
        OperationAnswer,
        202,
        "Run a schedule's action now (409: it was just run, or its action has nothing to act on)",
        errors=(409,),
        headers=("Location",),
    ),
    Route(
        "GET",
        "/api/schedules/<int:schedule_id>/history",
        None,
        ScheduleHistory,
        summary="Its firings, newest first; `before` = a page's last time",
        query={"before": _TIME, "limit": {"type": "integer", "minimum": 1, "maximum": 500}},
    ),
    Route(
        "GET",
        "/api/schedules/preview",
        None,
        SchedulePreview,
        summary="Next firing times of a cron expression (400 names what does not parse)",
        query={
            "expression": {"type": "string", "maxLength": 200},
            "timezone": {"type": "string", "maxLength": 64},
            "count": {"type": "integer", "minimum": 1, "maximum": 50},
        },
    ),
]

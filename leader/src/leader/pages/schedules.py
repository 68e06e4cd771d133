"""`/schedules` and `/schedules/<id>`: every schedule with its next firing and last outcome; create, edit,
pause/resume, run now, delete (static/js/schedule-form.js and actions.js call `/api/schedules`); each
schedule's history of operations. Read from the store only: the worker fires them (leader.schedules).
"""

from __future__ import annotations

from typing import Any

import msgspec
from flask import Blueprint, current_app, render_template

from cluster_schema.schedules import CronTrigger, DateTrigger, IntervalTrigger, Schedule

from .. import contrib
from ..api.schedules import _answer as schedule_answer  # the API's own view: one `next_run_at` rule
from ..auth import requires
from ..db import experiments as experiments_db
from ..db import get_db
from ..db import schedules as sched_db
from ..schedules.triggers import default_timezone

bp = Blueprint("schedules", __name__, url_prefix="/schedules")
HISTORY = 50
KINDS = [
    ("job.start", "Start a job"),
    ("job.stop", "Stop a job"),
    ("job.pause", "Pause a job"),
    ("job.resume", "Resume a job"),
    ("jobs.stop_all", "Stop every job in an experiment"),
]


def trigger_text(trigger: Any) -> str:
    if isinstance(trigger, IntervalTrigger):
        return f"every {trigger.seconds:g} s"
    if isinstance(trigger, CronTrigger):
        return f"cron {trigger.expression} ({trigger.timezone or 'lab time'})"
    if isinstance(trigger, DateTrigger):
        return f"once at {trigger.at}"
    return "?"


def action_text(action: Any) -> str:
    kind = type(action).__struct_config__.tag
    parts = [str(getattr(action, k)) for k in ("job", "profile", "experiment") if getattr(action, k, None)]
    return f"{kind} {' in '.join(parts)}".strip()


def msgspec_dict(value: Any) -> dict[str, Any]:
    """A Struct as the JSON the API takes (tags included): the edit form starts from it."""
    return dict(msgspec.json.decode(msgspec.json.encode(value)))


def _form_context(schedule: Schedule | None) -> dict[str, Any]:
    db = get_db()
    return {
        "kinds": KINDS,
        "experiments": [e.name for e in experiments_db.list_experiments(db)],
        "job_descriptors": contrib.jobs(current_app.config["CONTRIB_DIR"]),
        "lab_zone": default_timezone(current_app),
        "editing": schedule,
        "trigger_text": trigger_text,
        "action_text": action_text,
        "trigger_of": lambda s: msgspec_dict(s.trigger) if s else {},
        "action_of": lambda s: msgspec_dict(s.action) if s else {},
    }


@bp.get("")
@requires("viewer")
def index() -> str:
    rows = [schedule_answer(r) for r in sched_db.all_rows(get_db())]
    return render_template("schedules.html", schedules=rows, **_form_context(None))


@bp.get("/<int:schedule_id>")
@requires("viewer")
def show(schedule_id: int) -> str:
    db = get_db()
    schedule = schedule_answer(sched_db.get(db, schedule_id))
    return render_template(
        "schedule.html",
        schedule=schedule,
        history=sched_db.history(db, schedule_id, None, HISTORY),
        **_form_context(schedule),
    )

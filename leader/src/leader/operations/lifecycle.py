"""Operations of an experiment's lifecycle and its manual actions (their kinds are in `actions.ACTIONS`):

- `experiment.end`: on each unit, stop every job of the experiment; then (engine `after`) unassign each
  unit whose jobs stopped. A unit whose jobs did not stop stays assigned and its step says why, so an
  ended experiment never leaves a job running on a unit that looks free.
- `manual.add_media` · `manual.remove_waste` · `manual.add_alternative_media` · `manual.led_intensity`:
  real pio's one-shot jobs (`pio run add_media --ml=1` …) through the agent's job run, the one way to run
  pio; the safe-fill check happened before the operation was queued (leader/vial.py).
"""

from __future__ import annotations

import sqlite3

from ..db import now, transaction
from ..db import operations as ops_db
from ..fanout import Outcome

END = "experiment.end"
MANUAL_JOBS = ("add_media", "remove_waste", "add_alternative_media", "led_intensity")


def unassign_stopped(db: sqlite3.Connection, op_id: str) -> None:
    op = ops_db.get(db, op_id)
    exp = op.params["experiment"]
    left = []
    for step in op.steps:
        if step.status != "ok":
            left.append(step.unit)
            continue
        with transaction(db):
            closed = db.execute(
                "UPDATE assignments SET unassigned_at = ? "
                "WHERE unit = ? AND experiment = ? AND unassigned_at IS NULL",
                (now(), step.unit, exp),
            ).rowcount
        detail = f"{step.detail}; unassigned" if closed else f"{step.detail}; no longer assigned here"
        ops_db.set_step(db, op_id, step.unit, "ok", detail)
        ops_db.add_line(db, op_id, "info", f"{step.unit}: unassigned from {exp}", unit=step.unit)
    if left:
        ops_db.add_line(
            db, op_id, "warning", f"still assigned (jobs not stopped): {', '.join(left)}; end again to retry"
        )


def _describe(params: dict[str, object]) -> str:
    options = params.get("options") or {}
    assert isinstance(options, dict)
    if params["job"] == "led_intensity":
        return ", ".join(f"{ch} {v:g}%" for ch, v in sorted(options.items()) if isinstance(v, (int, float)))
    if "ml" in options:
        return f"{options['ml']:g} mL"
    return f"{options.get('duration', 0):g} s"


def manual_outcome(params: dict[str, object], outcome: Outcome) -> Outcome:
    """A one-shot job's start said in its own words. A previous one still running means this one did NOT
    happen: a failed step."""
    job, what, unit = params["job"], _describe(params), outcome.unit
    state = getattr(outcome.result, "state", None)
    if state == "already_running":
        return Outcome(unit, False, f"{job} is still running from before; {what} not done", outcome.result)
    if state == "ready":
        return Outcome(unit, True, f"{job} {what}: started", outcome.result)
    if state == "finished":
        return Outcome(unit, True, f"{job} {what}: done", outcome.result)
    return outcome

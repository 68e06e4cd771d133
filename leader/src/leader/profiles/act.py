"""What one plan row does when it fires (called by the driver inside the row's claiming transaction).

Start/stop/pause/resume/update become an ordinary operation for the row's unit (stored, not yet enqueued:
the driver enqueues it after the commit); `log` writes the experiment's log; `repeat` answers its iteration's
rows and the next iteration's row; `when` answers its rows once its condition holds, else when to look again.
`if` is evaluated here, when the row fires, with lookups reading the last values the ingest stored.
"""

from __future__ import annotations

import time
import zlib
from dataclasses import dataclass, field
from typing import Any

from flask import current_app

from cluster_schema.profiles import Action, Log, Profile, Repeat, Start, Update, When
from cluster_schema.topics import LOG_LEVELS

from ..db import experiments as exp_db
from ..db import get_db, job_states
from ..db import logs as logs_db
from ..db.profiles import Row
from ..operations.submit import submit
from . import expr
from .plan import PRIORITY, kind, resolve
from .validate import action_at, repeat_every, repeat_max

LEVELS = {name.upper(): i for i, name in enumerate(LOG_LEVELS)}  # as the ingest stores them


class Missing(expr.ExpressionError):
    """A lookup whose setting the leader has not seen: a `when` keeps waiting."""


@dataclass
class Outcome:
    status: str
    detail: str
    operation_id: str | None = None
    rows: list[Row] = field(default_factory=list)
    again_at: float | None = None  # a `when` not met yet: pending again at this time
    kind: str = ""  # of the operation submitted
    level: str = ""  # of the run's line; by default error when failed, else info


@dataclass
class Run:
    id: str
    profile: Profile
    experiment: str
    started: float
    dry_run: bool
    actions_fired: int = 0


def lookup_in_store(experiment: str) -> expr.Lookup:
    db = get_db()

    def lookup(unit: str, job: str, setting: str) -> Any:
        try:
            return job_states.last_value(db, unit, experiment, job, setting)
        except LookupError:
            raise Missing(f"{unit}:{job}:{setting} does not exist for experiment `{experiment}`") from None

    return lookup


def env_for(run: Run, row: Row) -> expr.Env:
    return expr.Env(
        inputs=run.profile.inputs,
        unit=row.unit,
        experiment=run.experiment,
        job_name=row.job,
        hours_elapsed=(time.time() - run.started) / 3600.0,
        action_count=run.actions_fired,
        lookup=lookup_in_store(run.experiment),
    )


def act(run: Run, row: Row) -> Outcome:
    action = resolve(run.profile, row.block, row.job, row.idx)
    if row.unit not in exp_db.assigned_units(get_db(), run.experiment):
        return Outcome("skipped", f"{row.unit} is no longer assigned to experiment {run.experiment}")
    env = env_for(run, row)
    if isinstance(action, Repeat):
        return _repeat(run, row, action, env)
    if isinstance(action, When):
        return _when(run, row, action, env)
    run.actions_fired += 1
    if (skip := skip_by_if(action, env)) is not None:
        return skip
    if isinstance(action, Log):
        return _log(run, row, action, env)
    return _job(run, row, action, env)


def skip_by_if(action: Action, env: expr.Env) -> Outcome | None:
    """None when the action's `if` holds. False, or not evaluable (a lookup of a setting never published,
    an operand of the wrong type): the action is skipped and the run goes on, as in Pioreactor's runner,
    which logs "Error in action" and carries on; the reason is the row's detail and a warning line."""
    try:
        if expr.truthy(action.if_, env):
            return None
    except expr.ExpressionError as exc:
        reason = str(exc).rstrip(".")
        return Outcome(
            "skipped",
            f"`if` condition, `{action.if_}`, could not be evaluated: {reason}. Skipping action.",
            level="warning",
        )
    return Outcome("skipped", f"`if` condition, `{action.if_}`, evaluated False")


def _job(run: Run, row: Row, action: Action, env: expr.Env) -> Outcome:
    params: dict[str, Any] = {"experiment": run.experiment, "job": row.job}
    if isinstance(action, Start):
        op_kind = "job.start"
        params["options"] = {k: expr.render_option(v, env) for k, v in action.options.items()}
        params["args"] = list(action.args)
        params["env"] = {}
        if action.config_overrides:
            params["config_overrides"] = [
                [f"{row.job}.config", k, str(expr.render_option(v, env))]
                for k, v in action.config_overrides.items()
            ]
        what = f"start {row.job} with options {params['options']}"
    elif isinstance(action, Update):
        op_kind = "job.settings"
        params["settings"] = {k: expr.render_option(v, env) for k, v in action.options.items()}
        what = f"update {row.job} with {params['settings']}"
    elif row.action in ("pause", "resume"):
        op_kind = f"job.{row.action}"
        what = f"{row.action} {row.job}"
    else:
        op_kind = "job.stop"
        what = f"stop {row.job}"
    if run.dry_run:
        return Outcome("done", f"dry run: would {what} on {row.unit}")
    op = submit(op_kind, params, [row.unit], "profile", requested_by=f"profile:{run.id}", enqueue=False)
    return Outcome("running", what, op.id, kind=op_kind)


def _log(run: Run, row: Row, action: Log, env: expr.Env) -> Outcome:
    message = expr.render_message(action.options.message, env)
    level = action.options.level.upper()
    if run.dry_run:
        return Outcome("done", f"dry run: would log {level} {message!r}")
    ts_ms = round(time.time() * 1000)
    dedupe = zlib.crc32(f"{run.id}:{row.seq}".encode())
    logs_db.insert_many(
        get_db(),
        [
            (
                ts_ms,
                row.unit,
                run.experiment,
                row.job,
                f"profile:{run.id}",
                LEVELS[level],
                message,
                dedupe,
                1,
            )
        ],
    )
    return Outcome("done", f"{level} {message}")


def _children(row: Row, actions: list[Any], base: float, limit: float | None) -> list[Row]:
    rows = []
    for i, child in enumerate(actions):
        offset = action_at(child)
        status, detail = "pending", ""
        if limit is not None and offset > limit:
            status, detail = "skipped", "start time is greater than the repeat's cycle time"
        rows.append(
            Row(
                base + offset,
                PRIORITY[kind(child)],
                row.unit,
                row.block,
                row.job,
                kind(child),
                (*row.idx, i),
                row.iteration,
                status,
                detail,
            )
        )
    return rows


def _repeat(run: Run, row: Row, action: Repeat, env: expr.Env) -> Outcome:
    iteration = row.iteration or 1
    if iteration == 1 and (skip := skip_by_if(action, env)) is not None:
        return skip
    if not expr.truthy(action.while_, env):
        return Outcome("done", f"`while` is false: the repeat ends after {iteration - 1} iteration(s)")
    every, limit = repeat_every(action), repeat_max(action)
    now = time.time()
    rows = _children(row, list(action.actions), now, every)
    if limit is None or iteration * every < limit:
        nxt = max(row.at + every, now)  # keep the cadence; never replay missed iterations in a burst
        rows.append(row._replace(at=nxt, iteration=iteration + 1, status="pending", detail=""))
    return Outcome("done", f"iteration {iteration}", rows=rows)


def _when(run: Run, row: Row, action: When, env: expr.Env) -> Outcome:
    if (skip := skip_by_if(action, env)) is not None:
        return skip
    condition = action.wait_until if action.wait_until is not None else action.condition
    assert condition is not None
    try:
        met = expr.truthy(condition, env)
    except Missing as exc:
        met, why = False, f" ({exc})"
    else:
        why = ""
    if not met:
        poll = float(current_app.config["PROFILE_WHEN_POLL"])
        return Outcome("pending", f"waiting until `{condition}`{why}", again_at=time.time() + poll)
    rows = _children(row, list(action.actions), time.time(), None)
    return Outcome("done", f"`{condition}` met", rows=rows)

"""What each kind of operation asks of one unit, and how the agent's answer becomes a step outcome.

An action is `prepare(db, params) -> data` (run once, before the fan-out, in the engine's thread: reads the
store) plus `async call(ctx, unit, deadline) -> Outcome` (a coroutine on the agent loop: talks HTTP only).
"""

from __future__ import annotations

import functools
import hashlib
import sqlite3
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from cluster_schema.agent import (
    CommandResult,
    ConfigFileBody,
    RunJobRequest,
    RunJobResult,
    SettingsResult,
    SettingsUpdateRequest,
    StopJobsRequest,
    StopJobsResult,
)
from cluster_schema.names import STATE_SETTING

from ..agent_client import AgentClient, AgentError
from ..db import config_files, config_synced
from ..fanout import Outcome
from ..unit_address import UnitAddress
from . import lifecycle

SYSTEM_ACTIONS = ("reboot", "shutdown", "update")


@dataclass
class Context:
    client: AgentClient
    params: dict[str, Any]
    data: Any = None
    cancel: threading.Event = field(default_factory=threading.Event)


@dataclass(frozen=True)
class Action:
    call: Callable[[Context, UnitAddress, float], Awaitable[Outcome]]
    prepare: Callable[[sqlite3.Connection, dict[str, Any]], Any] | None = None
    # run in the engine's thread once every unit answered, before the status is decided (reads and
    # writes the store: e.g. ending an experiment unassigns the units whose jobs stopped)
    after: Callable[[sqlite3.Connection, str], None] | None = None
    # run in the engine's thread with each batch of outcomes, once their steps are stored (writes the store:
    # e.g. a config sync remembers what each unit now has, even if the operation is cancelled later)
    recorded: Callable[[sqlite3.Connection, str, list[Outcome]], None] | None = None


def _tail(text: str, n: int = 300) -> str:
    text = text.strip()
    return text[-n:] if text else ""


async def start_job(ctx: Context, unit: UnitAddress, deadline: float) -> Outcome:
    p = ctx.params
    body = RunJobRequest(
        experiment=p["experiment"],
        options=p.get("options", {}),
        args=p.get("args", []),
        env=p.get("env", {}),
        config_overrides=[tuple(o) for o in p.get("config_overrides", [])],
    )
    path = f"/unit_api/jobs/run/job_name/{p['job']}"
    result = await ctx.client.run_task(
        unit, "POST", path, body, RunJobResult, deadline=deadline, cancelled=ctx.cancel.is_set
    )
    if result.state == "ready":
        return Outcome(
            unit.name, True, f"{p['job']} ready" + (f" (pid {result.pid})" if result.pid else ""), result
        )
    if result.state == "already_running":
        return Outcome(unit.name, True, "already running", result)
    if result.state == "finished":  # a one-shot job (led_intensity, add_media…) ran and exited 0
        return Outcome(unit.name, True, f"{p['job']} finished", result)
    reason = f"exit code {result.exit_code}" if result.exit_code is not None else "did not reach ready"
    tail = _tail(result.output_tail)
    return Outcome(unit.name, False, f"{p['job']} failed: {reason}" + (f": {tail}" if tail else ""), result)


async def _stop(ctx: Context, unit: UnitAddress, deadline: float, body: StopJobsRequest) -> Outcome:
    result = await ctx.client.run_task(
        unit,
        "POST",
        "/unit_api/jobs/stop",
        body,
        StopJobsResult,
        deadline=deadline,
        cancelled=ctx.cancel.is_set,
    )
    if result.still_running:
        return Outcome(unit.name, False, "still running: " + ", ".join(result.still_running), result)
    if result.not_running or not result.stopped:
        return Outcome(unit.name, True, "not running", result)
    return Outcome(unit.name, True, "stopped " + ", ".join(result.stopped), result)


async def stop_job(ctx: Context, unit: UnitAddress, deadline: float) -> Outcome:
    body = StopJobsRequest(job_name=ctx.params["job"], experiment=ctx.params["experiment"])
    return await _stop(ctx, unit, deadline, body)


async def stop_all_jobs(ctx: Context, unit: UnitAddress, deadline: float) -> Outcome:
    return await _stop(ctx, unit, deadline, StopJobsRequest(experiment=ctx.params["experiment"]))


async def update_settings(ctx: Context, unit: UnitAddress, deadline: float) -> Outcome:
    p = ctx.params
    body = SettingsUpdateRequest(settings=p["settings"], experiment=p["experiment"])
    path = f"/unit_api/jobs/settings/job_name/{p['job']}"
    result = await ctx.client.run_task(
        unit, "PATCH", path, body, SettingsResult, deadline=deadline, cancelled=ctx.cancel.is_set
    )
    echoed = ", ".join(f"{k}={v}" for k, v in result.echoed.items())
    if result.not_echoed:
        return Outcome(unit.name, False, "not echoed: " + ", ".join(result.not_echoed), result)
    return Outcome(unit.name, True, f"echoed {echoed}", result)


# pause/resume: the job's own `$state/set`, through the agent's settings PATCH (the one `$` name it takes)
JOB_STATES = {"job.pause": "sleeping", "job.resume": "ready"}


async def set_job_state(ctx: Context, unit: UnitAddress, deadline: float, *, state: str) -> Outcome:
    """Params {"experiment", "job"}: the state comes with the kind, so a schedule submits the same."""
    p = ctx.params
    body = SettingsUpdateRequest(settings={STATE_SETTING: state}, experiment=p["experiment"])
    path = f"/unit_api/jobs/settings/job_name/{p['job']}"
    try:
        result = await ctx.client.run_task(
            unit, "PATCH", path, body, SettingsResult, deadline=deadline, cancelled=ctx.cancel.is_set
        )
    except AgentError as exc:
        if exc.status == 404:  # nothing to pause or resume: say so plainly
            return Outcome(unit.name, False, f"{p['job']} is not running")
        raise
    if result.not_echoed:
        return Outcome(unit.name, False, f"{p['job']} did not confirm {state}", result)
    return Outcome(unit.name, True, f"{p['job']} {state}", result)


async def system(ctx: Context, unit: UnitAddress, deadline: float) -> Outcome:
    action = ctx.params["action"]
    result = await ctx.client.run_task(
        unit,
        "POST",
        f"/unit_api/system/{action}",
        None,
        CommandResult,
        deadline=deadline,
        cancelled=ctx.cancel.is_set,
    )
    dry = " (dry run)" if result.dry_run else ""
    if result.exit_code == 0 or result.dry_run:
        return Outcome(unit.name, True, f"{action} done{dry}", result)
    return Outcome(
        unit.name, False, f"{action} exited {result.exit_code}: {_tail(result.output_tail)}", result
    )


# Config files: the leader keeps `config.ini` (every unit) and `config_<unit>.ini` (one unit's own), the way
# Pioreactor names them on a leader; a unit stores its own as `unit_config.ini`.
SHARED_CONFIG = "config.ini"


def unit_config_name(unit: str) -> str:
    return f"config_{unit}.ini"


def _prepare_config(db: sqlite3.Connection, params: dict[str, Any]) -> dict[str, str]:
    return config_files.contents(db)


async def sync_config(ctx: Context, unit: UnitAddress, deadline: float) -> Outcome:
    """The outcome's result: {file name on the leader: sha256 the unit confirmed}."""
    files: dict[str, str] = ctx.data
    wanted = {  # the unit's file name → the leader's
        "config.ini": SHARED_CONFIG,
        "unit_config.ini": unit_config_name(unit.name),
    }
    written, confirmed = [], {}
    for target, name in wanted.items():
        content = files.get(name)
        if content is None:
            continue
        resp = await ctx.client.request(
            unit, "PUT", f"/unit_api/config/{target}", ConfigFileBody(content=content), deadline=deadline
        )
        answer = resp.json()
        expected = hashlib.sha256(content.encode()).hexdigest()
        got = answer.get("sha256") if isinstance(answer, dict) else None
        if got != expected:
            raise AgentError(f"{target}: the unit stored a different file (sha256 {str(got)[:12]})")
        written.append(target)
        confirmed[name] = expected
    if not written:
        return Outcome(unit.name, False, "nothing to sync: the leader has no config.ini")
    return Outcome(unit.name, True, "wrote " + ", ".join(written), confirmed)


def remember_synced(db: sqlite3.Connection, op_id: str, batch: list[Outcome]) -> None:
    """Only a step that succeeded counts: a unit that failed half-way keeps its older record (an
    honest "not synced" for a file it may in fact have received)."""
    written = [(o.unit, name, sha) for o in batch if o.ok and o.result for name, sha in o.result.items()]
    config_synced.record(db, op_id, written)


async def check_unit(ctx: Context, unit: UnitAddress, deadline: float) -> Outcome:
    """Reachable and accepts the cluster token (`/unit_api/versions` needs credentials)."""
    resp = await ctx.client.request(unit, "GET", "/unit_api/versions", deadline=deadline)
    data = resp.json()
    return Outcome(unit.name, True, f"agent {data.get('agent')}, pio {data.get('pio')}", data)


ACTIONS: dict[str, Action] = {
    "job.start": Action(start_job),
    "job.stop": Action(stop_job),
    "jobs.stop_all": Action(stop_all_jobs),
    "job.settings": Action(update_settings),
    **{kind: Action(functools.partial(set_job_state, state=state)) for kind, state in JOB_STATES.items()},
    "config.sync": Action(sync_config, _prepare_config, recorded=remember_synced),
    **{f"system.{a}": Action(system) for a in SYSTEM_ACTIONS},
}


def _fleet_actions() -> dict[str, Action]:
    from .fleet import FLEET_ACTIONS  # (imports this module's Context for typing only)

    return {kind: Action(call) for kind, call in FLEET_ACTIONS.items()}


ACTIONS.update(_fleet_actions())


async def manual_action(ctx: Context, unit: UnitAddress, deadline: float) -> Outcome:
    """A manual action (add_media, led_intensity ...): pio's one-shot job, its outcome in its own words."""
    return lifecycle.manual_outcome(ctx.params, await start_job(ctx, unit, deadline))


# ending an experiment stops its jobs, then unassigns the units whose jobs stopped (operations/lifecycle.py)
ACTIONS[lifecycle.END] = Action(stop_all_jobs, after=lifecycle.unassign_stopped)
ACTIONS.update({f"manual.{job}": Action(manual_action) for job in lifecycle.MANUAL_JOBS})

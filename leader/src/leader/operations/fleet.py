"""Fleet actions, one step per unit: sync a clock, identify, self-test, install/uninstall a plugin, set a
calibration.

Registered into `actions.ACTIONS` (kinds `system.clock`, `unit.identify`, `unit.self_test`,
`plugin.install`, `plugin.uninstall`, `calibration.set_active`).
Each talks to one agent route that answers a task.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING
from urllib.parse import quote

from cluster_schema.agent import (
    ActiveCalibrationResult,
    Clock,
    CommandResult,
    PluginRequest,
    RunJobRequest,
    RunJobResult,
)
from cluster_schema.self_test import SELF_TEST_JOB

from ..agent_client import UnitAddress
from ..fanout import Outcome

if TYPE_CHECKING:
    from .actions import Context


def _tail(text: str, n: int = 300) -> str:
    return text.strip()[-n:]


async def sync_clock(ctx: Context, unit: UnitAddress, deadline: float) -> Outcome:
    # the leader's time when this unit's turn comes, not when the operation was queued
    now = datetime.now(UTC)
    utc = now.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    result = await ctx.client.run_task(
        unit, "POST", "/unit_api/system/clock", Clock(utc=now), CommandResult, deadline=deadline
    )
    if result.dry_run:
        return Outcome(unit.name, True, f"clock set to {utc} (dry run)", result)
    if result.exit_code == 0:
        return Outcome(unit.name, True, f"clock set to {utc}", result)
    return Outcome(unit.name, False, f"set clock exited {result.exit_code}: {_tail(result.output_tail)}")


async def identify(ctx: Context, unit: UnitAddress, deadline: float) -> Outcome:
    result = await ctx.client.run_task(
        unit, "POST", "/unit_api/system/identify", None, CommandResult, deadline=deadline
    )
    return Outcome(unit.name, True, "LED flicker requested", result)


async def self_test(ctx: Context, unit: UnitAddress, deadline: float) -> Outcome:
    """`pio run self_test` through the agent's one way to run pio; the step is done once it runs (pio
    picks `$experiment` itself): the checks' outcomes arrive over MQTT (leader.self_test reads them)."""
    result = await ctx.client.run_task(
        unit,
        "POST",
        f"/unit_api/jobs/run/job_name/{SELF_TEST_JOB}",
        RunJobRequest(),
        RunJobResult,
        deadline=deadline,
        cancelled=ctx.cancel.is_set,
    )
    if result.state == "ready":
        return Outcome(
            unit.name, True, "self-test started" + (f" (pid {result.pid})" if result.pid else ""), result
        )
    if result.state == "already_running":
        return Outcome(unit.name, True, "a self-test is already running", result)
    if result.state == "finished":  # every check done before the agent saw it ready
        return Outcome(unit.name, True, "self-test finished", result)
    reason = f"exit code {result.exit_code}" if result.exit_code is not None else "did not start"
    return Outcome(unit.name, False, f"self-test failed: {reason}: {_tail(result.output_tail)}", result)


def _plugin(action: str) -> Callable[[Context, UnitAddress, float], Awaitable[Outcome]]:
    async def call(ctx: Context, unit: UnitAddress, deadline: float) -> Outcome:
        p = ctx.params
        body = PluginRequest(name=p["name"], version=p.get("version") if action == "install" else None)
        result = await ctx.client.run_task(
            unit,
            "POST",
            f"/unit_api/plugins/{action}",
            body,
            CommandResult,
            deadline=deadline,
            cancelled=ctx.cancel.is_set,
        )
        what = p["name"] + (f"=={p['version']}" if p.get("version") and action == "install" else "")
        if result.dry_run:
            return Outcome(unit.name, True, f"{action} {what} (dry run)", result)
        if result.exit_code == 0:
            return Outcome(unit.name, True, f"{action}ed {what}", result)
        return Outcome(
            unit.name,
            False,
            f"{action} {what} exited {result.exit_code}: {_tail(result.output_tail)}",
            result,
        )

    return call


async def set_active_calibration(ctx: Context, unit: UnitAddress, deadline: float) -> Outcome:
    device, name = ctx.params["device"], ctx.params["name"]
    path = f"/unit_api/active_calibrations/{quote(device, safe='')}/{quote(name, safe='')}"
    result = await ctx.client.run_task(unit, "PATCH", path, None, ActiveCalibrationResult, deadline=deadline)
    return Outcome(unit.name, True, f"{device}: {name} is active", result)


FLEET_ACTIONS: dict[str, Callable[[Context, UnitAddress, float], Awaitable[Outcome]]] = {
    "system.clock": sync_clock,
    "unit.identify": identify,
    "unit.self_test": self_test,
    "plugin.install": _plugin("install"),
    "plugin.uninstall": _plugin("uninstall"),
    "calibration.set_active": set_active_calibration,
}

"""Fleet actions, one step per unit: sync a clock, identify, install/uninstall a plugin, set a calibration.

Registered into `actions.ACTIONS` (kinds `system.clock`, `unit.identify`, `plugin.install`,
`plugin.uninstall`, `calibration.set_active`). Each talks to one agent route that answers a task.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING
from urllib.parse import quote

from cluster_schema.agent import ActiveCalibrationResult, Clock, CommandResult, PluginRequest

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
    "plugin.install": _plugin("install"),
    "plugin.uninstall": _plugin("uninstall"),
    "calibration.set_active": set_active_calibration,
}

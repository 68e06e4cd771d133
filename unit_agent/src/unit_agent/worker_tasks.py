"""What each worker task does: (runtime, *plain arguments) -> a Struct. Only the worker imports this module
(tasks.py looks a body up by name when the task runs), so the web process, which only enqueues, never loads
the worker's runtime, jobs and heartbeat.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import msgspec

from cluster_schema.agent import (
    ActiveCalibrationResult,
    CommandResult,
    Plugin,
    Plugins,
    RunJobRequest,
    SettingsUpdateRequest,
    StopJobsRequest,
)

from . import runtime
from .jobs import TaskFailed, run_job, stop_jobs, update_settings
from .pio import check_plugin

log = logging.getLogger("unit_agent.tasks")


def _command(
    rt: runtime.Runtime, argv: list[str], timeout: float | None = None, env: dict[str, str] | None = None
) -> CommandResult:
    if rt.settings.system_dry_run:
        log.info("Dry run: %s", " ".join(argv))
        return CommandResult(command=argv, exit_code=None, dry_run=True)
    done = rt.pio.command(argv, timeout or rt.settings.timeouts_system_command, env)
    log.log(logging.INFO if done.ok else logging.ERROR, "%s exited with %s.", " ".join(argv), done.exit_code)
    return CommandResult(command=argv, exit_code=done.exit_code, output_tail=done.output)


def t_run_job(rt: runtime.Runtime, job: str, body: dict[str, Any]) -> Any:
    return run_job(rt, job, msgspec.convert(body, RunJobRequest))


def t_stop_jobs(rt: runtime.Runtime, body: dict[str, Any]) -> Any:
    return stop_jobs(rt, msgspec.convert(body, StopJobsRequest).validate())


def t_update_settings(rt: runtime.Runtime, job: str, body: dict[str, Any]) -> Any:
    return update_settings(rt, job, msgspec.convert(body, SettingsUpdateRequest).validate())


def t_system(rt: runtime.Runtime, name: str) -> Any:
    if name not in ("reboot", "shutdown", "update"):
        raise TaskFailed(f"unknown system command {name}")
    return _command(rt, rt.pio.system_argv(name))


def t_set_clock(rt: runtime.Runtime, utc: str) -> Any:
    return _command(rt, rt.pio.system_argv("set_clock", utc=utc), rt.settings.timeouts_pio_call)


def t_plugin(rt: runtime.Runtime, action: str, name: str, version: str | None) -> Any:
    check_plugin(name, version)
    if not rt.settings.allow_plugins:
        raise TaskFailed("Plugin installation is disabled on this unit.")
    args = ["plugins", action, name] + (["--version", version] if version and action == "install" else [])
    env = rt.pio.env()
    s = rt.settings
    if s.plugins_find_links:
        env["PIP_FIND_LINKS"] = s.plugins_find_links
        if not s.plugins_index_url:
            env["PIP_NO_INDEX"] = "1"  # a lab mirror folder only: never reach out to PyPI
    if s.plugins_index_url:
        env["PIP_INDEX_URL"] = s.plugins_index_url
    # plugins are not system commands: they run even when system_dry_run is on
    done = rt.pio.command(rt.pio.argv(args), s.timeouts_system_command, env)
    log.log(
        logging.INFO if done.ok else logging.ERROR,
        "pio plugins %s %s exited %s.",
        action,
        name,
        done.exit_code,
    )
    if not done.ok:
        raise TaskFailed(f"pio plugins {action} {name} failed ({done.exit_code}): {done.output[-300:]}")
    return CommandResult(command=done.argv, exit_code=done.exit_code, output_tail=done.output)


# Pioreactor's own leader answers `pio blink` by publishing this to the unit's monitor job, which flickers
# the unit's LED; the agent publishes it directly (pio blink itself needs Pioreactor's web API).
def t_identify(rt: runtime.Runtime) -> Any:
    unit = rt.settings.unit
    topic = f"pioreactor/{unit}/$experiment/monitor/flicker_led_response_okay"
    if not rt.link.connected.wait(5):
        raise TaskFailed("not connected to the broker; cannot reach the monitor job")
    info = rt.link.client.publish(topic, b"1", qos=1)
    info.wait_for_publish(5)
    return CommandResult(command=["mqtt", topic], exit_code=0, output_tail="flicker requested")


def t_list_plugins(rt: runtime.Runtime) -> Any:
    done = rt.pio.call(["plugins", "list", "--json"])
    if not done.ok:
        raise TaskFailed(f"pio plugins list failed ({done.exit_code}): {done.output[-300:]}")
    try:
        items = msgspec.json.decode(done.output.strip().splitlines()[-1] if done.output.strip() else "[]")
    except msgspec.DecodeError as exc:
        raise TaskFailed(f"pio plugins list answered no JSON: {exc}") from None
    return Plugins(
        plugins=[
            Plugin(**{k: str(v or "") for k, v in p.items() if k in Plugin.__struct_fields__}) for p in items
        ]
    )


def t_set_active_calibration(rt: runtime.Runtime, device: str, name: str) -> Any:
    done = rt.pio.call(["calibrations", "set-active", "--device", device, "--name", name])
    if not done.ok:
        raise TaskFailed(f"pio calibrations set-active failed ({done.exit_code}): {done.output[-300:]}")
    return ActiveCalibrationResult(device=device, name=name, active=True)


TASKS: dict[str, Callable[..., Any]] = {
    "run_job": t_run_job,
    "stop_jobs": t_stop_jobs,
    "update_settings": t_update_settings,
    "system": t_system,
    "set_clock": t_set_clock,
    "plugin": t_plugin,
    "list_plugins": t_list_plugins,
    "set_active_calibration": t_set_active_calibration,
    "identify": t_identify,
}

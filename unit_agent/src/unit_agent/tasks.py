"""The agent's Huey tasks: one queue (SqliteHuey in the data directory) shared by the web app and the worker.

Both processes build the same `Queue` (same file, same task names): the web app enqueues, the worker
(`huey_consumer unit_agent.worker.huey ...`) executes. Every task records its outcome in the agent's store
(store.py) under Huey's task id: pending -> complete (with a result) or failed (with an error).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any

import msgspec
from huey import SqliteHuey
from huey.api import Task, TaskWrapper
from packaging.version import InvalidVersion, Version

from cluster_schema.agent import (
    ActiveCalibrationResult,
    CommandResult,
    Plugin,
    Plugins,
    RunJobRequest,
    SettingsUpdateRequest,
    StopJobsRequest,
)
from cluster_schema.codec import to_builtins
from cluster_schema.errors import ApiError, BadRequest

from . import runtime
from .config import Settings
from .jobs import TaskFailed, run_job, stop_jobs, update_settings
from .queue_wake import WakeableSqliteStorage
from .store import Store

log = logging.getLogger("unit_agent.tasks")

# PEP 508 distribution names; versions must parse as PEP 440 (so no URL, path, option or shell text).
_PACKAGE = re.compile(r"^([A-Za-z0-9]|[A-Za-z0-9][A-Za-z0-9._-]{0,98}[A-Za-z0-9])$")


def check_plugin(name: str, version: str | None) -> None:
    if not isinstance(name, str) or not _PACKAGE.match(name):
        raise BadRequest("Invalid plugin name at `$.name`: a PEP 508 name (letters, digits, '.', '_', '-').")
    if version is None:
        return
    try:
        if len(version) > 64 or version != version.strip():
            raise InvalidVersion(version)
        Version(version)
    except InvalidVersion:
        raise BadRequest("Invalid plugin version at `$.version`: a PEP 440 version like 1.2.3.") from None


def _command(
    rt: runtime.Runtime, argv: list[str], timeout: float | None = None, env: dict[str, str] | None = None
) -> CommandResult:
    if rt.settings.system_dry_run:
        log.info("Dry run: %s", " ".join(argv))
        return CommandResult(command=argv, exit_code=None, dry_run=True)
    done = rt.pio.command(argv, timeout or rt.settings.timeouts_system_command, env)
    log.log(logging.INFO if done.ok else logging.ERROR, "%s exited with %s.", " ".join(argv), done.exit_code)
    return CommandResult(command=argv, exit_code=done.exit_code, output_tail=done.output)


# -- task bodies: (runtime, *plain arguments) -> a Struct ---------------------------------------------------
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


class _Huey(SqliteHuey):
    storage_class = WakeableSqliteStorage
    shutdown_grace = 3.0  # Settings.worker_shutdown_grace, set by Queue

    def create_consumer(self, **options: Any) -> Any:
        """`huey_consumer` builds its consumer here: ours stops on signals safely (see unit_agent.signals)."""
        from .signals import Consumer

        consumer = Consumer(self, **options)
        consumer.grace = self.shutdown_grace
        return consumer


class Queue:
    def __init__(self, settings: Settings, store: Store | None = None):
        self.settings = settings
        self.store = store or Store(settings.data_dir / "agent.sqlite", settings.result_ttl)
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        self.huey = _Huey("unit_agent", filename=str(settings.data_dir / "huey.sqlite"), results=False)
        self.huey.shutdown_grace = settings.worker_shutdown_grace
        self.tasks: dict[str, TaskWrapper] = {
            name: self.huey.task(context=True, name=name)(self._recording(name, fn))
            for name, fn in TASKS.items()
        }

    def _recording(self, kind: str, fn: Callable[..., Any]) -> Callable[..., None]:
        settings = self.settings

        def task(*args: Any, task: Task) -> None:
            rt = runtime.get(settings)
            age = rt.store.task_running(task.id, kind)
            if age > settings.task_max_age:
                # queued while the worker was down: starting a job now would surprise everyone
                log.warning("Task %s (%s) expired after %.0f s in the queue; not run.", kind, task.id, age)
                rt.store.task_finished(task.id, error=f"Expired: waited {age:.0f} s for the worker; not run.")
                return
            log.info("Task %s started (%s).", kind, task.id)
            try:
                result = to_builtins(fn(rt, *args))
            except (TaskFailed, ApiError) as exc:
                log.warning("Task %s failed: %s", kind, exc)
                rt.store.task_finished(task.id, error=str(exc))
            except Exception as exc:
                log.exception("Task %s (%s) failed.", kind, task.id)
                rt.store.task_finished(task.id, error=f"{type(exc).__name__}: {exc}")
            else:
                rt.store.task_finished(task.id, result)
            rt.store.expire_results()

        task.__name__ = kind
        return task

    def enqueue(self, kind: str, *args: Any) -> str:
        task = self.tasks[kind].s(*args)
        self.store.task_pending(task.id, kind)
        self.huey.enqueue(task)
        return str(task.id)

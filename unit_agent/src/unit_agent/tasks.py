"""The agent's Huey tasks: one queue (SqliteHuey in the data directory) shared by the web app and the worker.

Both processes build the same `Queue` (same file, same task names): the web app enqueues, the worker
(`huey_consumer unit_agent.worker.huey ...`) executes. Every task records its outcome in the agent's store
(store.py) under Huey's task id: pending -> complete (with a result) or failed (with an error). What each
task does is in worker_tasks.py, which only the worker loads.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from huey import SqliteHuey
from huey.api import Task, TaskWrapper

from cluster_schema.codec import to_builtins
from cluster_schema.errors import ApiError

from .config import Settings
from .queue_wake import WakeableSqliteStorage
from .store import Store

log = logging.getLogger("unit_agent.tasks")

# The names the web enqueues; worker_tasks.TASKS maps each to its body (a test keeps the two equal).
NAMES = (
    "run_job",
    "stop_jobs",
    "update_settings",
    "system",
    "set_clock",
    "plugin",
    "list_plugins",
    "set_active_calibration",
    "identify",
)


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
            name: self.huey.task(context=True, name=name)(self._recording(name)) for name in NAMES
        }

    def _recording(self, kind: str) -> Callable[..., None]:
        settings = self.settings

        def task(*args: Any, task: Task) -> None:
            # the worker's side, imported when a task runs (worker.py loads it at start): the web process
            # only enqueues and so never loads the runtime, jobs and heartbeat
            from . import runtime
            from .jobs import TaskFailed
            from .worker_tasks import TASKS

            rt = runtime.get(settings)
            age = rt.store.task_running(task.id, kind)
            if age > settings.task_max_age:
                # queued while the worker was down: starting a job now would surprise everyone
                log.warning("Task %s (%s) expired after %.0f s in the queue; not run.", kind, task.id, age)
                rt.store.task_finished(task.id, error=f"Expired: waited {age:.0f} s for the worker; not run.")
                return
            log.info("Task %s started (%s).", kind, task.id)
            try:
                result = to_builtins(TASKS[kind](rt, *args))
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

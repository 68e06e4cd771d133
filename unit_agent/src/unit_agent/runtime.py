"""The worker's long-lived parts, built once per process: store, registry, pio, MQTT link, child jobs."""

from __future__ import annotations

import logging
import os
import subprocess
import threading
from pathlib import Path

from . import presence
from .config import Settings
from .heartbeat import Heartbeat
from .pio import Pio, exit_code
from .registry import Registry
from .state import Mirror, MqttLink
from .store import Store

log = logging.getLogger("unit_agent.jobs")


class Children:
    """Jobs this worker started: one waiter thread each reaps the process and records its exit code."""

    def __init__(self, store: Store):
        self.store = store
        self.procs: dict[int, subprocess.Popen[bytes]] = {}
        self._lock = threading.Lock()

    def add(self, proc: subprocess.Popen[bytes], job: str, experiment: str | None, log_path: Path) -> None:
        self.store.run_started(proc.pid, job, experiment, log_path)
        with self._lock:
            self.procs[proc.pid] = proc
        threading.Thread(
            target=self._wait, args=(proc, job, experiment), daemon=True, name=f"wait-{job}"
        ).start()

    def _wait(self, proc: subprocess.Popen[bytes], job: str, experiment: str | None) -> None:
        code = exit_code(proc.wait())
        self.store.run_ended(proc.pid, code)
        with self._lock:  # recorded: from now on the store answers for it
            self.procs.pop(proc.pid, None)
        log.info("%s (pid %d) exited with code %s.", job, proc.pid, code, extra={"experiment": experiment})

    def exit_code(self, pid: int, timeout: float = 2.0) -> int | None:
        """The exit code of a job this worker started (waiting briefly for the reaper), else the store's."""
        with self._lock:
            proc = self.procs.get(pid)
        if proc is not None:
            try:
                return exit_code(proc.wait(timeout))
            except subprocess.TimeoutExpired:
                return None
        return self.store.run_exit_code(pid)[1]


class Runtime:
    def __init__(self, settings: Settings):
        self.settings = settings
        self.store = Store(settings.data_dir / "agent.sqlite", settings.result_ttl)
        self.registry = Registry(settings.registry_path(), settings.persistent_cache_path())
        self.pio = Pio(settings)
        self.mirror = Mirror(settings.unit)
        self.link = MqttLink(settings, "worker", self.mirror)
        self.children = Children(self.store)
        self.pio_version = ""
        self.heartbeat = Heartbeat(self)
        self._job_locks: dict[str, threading.Lock] = {}
        self._locks_lock = threading.Lock()

    def job_lock(self, job: str) -> threading.Lock:
        """One start at a time per job name: a second request waits, then finds it already running."""
        with self._locks_lock:
            return self._job_locks.setdefault(job, threading.Lock())

    def start(self) -> Runtime:
        self.store.interrupt_running()
        self.store.expire_results()
        self.pio_version = self.heartbeat.pio_version.get()  # once per pio install (see heartbeat.py)
        self.store.set_fact("worker_pid", str(os.getpid()))  # its memory and CPU, for /unit_api/metrics
        presence.attach(self.link, self.pio_version)
        self.heartbeat.start()
        self.link.start()
        handler = presence.MqttLogHandler(self.link)
        logging.getLogger("unit_agent").addHandler(handler)
        log.info("Unit agent worker started (pio %s).", self.pio_version)
        return self

    def stop(self) -> None:
        self.heartbeat.stop()
        presence.announce_offline(self.link, self.pio_version)
        self.link.stop()


_runtime: Runtime | None = None
_lock = threading.Lock()
_shut = False


def get(settings: Settings) -> Runtime:
    """The process's runtime, started on first use (Huey calls startup hooks once per worker thread)."""
    global _runtime
    with _lock:
        if _shut:  # a thread still starting up when the worker stopped must not start it all again
            raise RuntimeError("the worker is stopping")
        if _runtime is None:
            _runtime = Runtime(settings).start()
        return _runtime


def shutdown() -> None:
    """Stop the runtime for good (called once per worker thread and by the consumer; idempotent)."""
    global _runtime, _shut
    with _lock:
        _shut = True
        if _runtime is not None:
            _runtime.stop()
            _runtime = None

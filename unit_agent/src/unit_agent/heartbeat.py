"""The agent's status on MQTT: versions and health, so the leader never asks on every read.

    pioreactor/<unit>/$agent/status    AgentStatus JSON (cluster_schema.fleet), retained, QoS 1

The worker publishes it on every (re)connection, within `heartbeat_check` seconds of a change of its
versions (a new `pio`) or of its running job count, and every `heartbeat_interval` seconds regardless.
Between heartbeats the thread sleeps; a check is one stat() of the pio executable plus one read of the job
registry, so an idle agent stays far under 1 % of a core (bench/units.py measures it).

`pio`'s version is asked once per install: keyed by the executable's resolved path, size and mtime (kept
in the agent's store, so a restart does not ask again), never by forking Python per request.
"""

from __future__ import annotations

import logging
import os
import platform
import shutil
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from cluster_schema import SCHEMA_VERSION, topics
from cluster_schema.codec import encode
from cluster_schema.fleet import AgentStatus, UnitVersions

from . import __version__
from .presence import now_iso

if TYPE_CHECKING:
    from .runtime import Runtime

log = logging.getLogger("unit_agent.heartbeat")


def pio_key(pio: str) -> str:
    """Which `pio` install this is: resolved path, size and mtime ("" when it cannot be found)."""
    found = shutil.which(pio) if os.sep not in pio else pio
    if not found:
        return ""
    path = os.path.realpath(found)
    try:
        st = os.stat(path)
    except OSError:
        return ""
    return f"{path}:{st.st_size}:{st.st_mtime_ns}"


class PioVersion:
    """`pio version`, run again only when pio_key() changes."""

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self.lock = threading.Lock()

    def get(self) -> str:
        store = self.rt.store
        key = pio_key(self.rt.settings.pio)
        with self.lock:
            if key and store.fact("pio_version_key") == key and store.fact("pio_version"):
                return store.fact("pio_version")
            done = self.rt.pio.call(["version"], timeout=self.rt.settings.timeouts_pio_call)
            lines = done.output.splitlines()
            version = lines[-1].strip() if done.ok and lines else "unknown"
            store.set_fact("pio_version", version)
            store.set_fact("pio_version_key", key if done.ok else "")
            log.info("pio at %s is version %s.", key.split(":")[0] or self.rt.settings.pio, version)
            return version


def memory() -> tuple[int | None, int | None]:
    """(MemAvailable, MemTotal) in bytes from /proc/meminfo; (None, None) elsewhere."""
    values: dict[str, int] = {}
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                name, _, rest = line.partition(":")
                if name in ("MemAvailable", "MemTotal"):
                    values[name] = int(rest.split()[0]) * 1024
    except (OSError, ValueError, IndexError):
        return None, None
    return values.get("MemAvailable"), values.get("MemTotal")


def disk(path: Path) -> tuple[int | None, int | None]:
    try:
        usage = shutil.disk_usage(path)
    except OSError:
        return None, None
    return usage.free, usage.total


class Heartbeat:
    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self.pio_version = PioVersion(rt)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="heartbeat", daemon=True)
        self._last: tuple[str, int] | None = None  # (pio key, running jobs) last published

    def status(self) -> AgentStatus:
        s = self.rt.settings
        mem_free, mem_total = memory()
        disk_free, disk_total = disk(s.data_dir)
        return AgentStatus(
            unit=s.unit,
            versions=UnitVersions(
                agent=__version__,
                pio=self.pio_version.get(),
                python=platform.python_version(),
                schema=SCHEMA_VERSION,
            ),
            utc=now_iso(),
            disk_free_bytes=disk_free,
            disk_total_bytes=disk_total,
            memory_free_bytes=mem_free,
            memory_total_bytes=mem_total,
            running_jobs=len(self.rt.registry.running()),
            worker_alive=True,
            interval=s.heartbeat_interval,
        )

    def publish(self) -> bool:
        status = self.status()
        self._last = (pio_key(self.rt.settings.pio), status.running_jobs)
        return self.rt.link.publish(topics.status_topic(status.unit), encode(status), qos=1, retain=True)

    def _changed(self) -> bool:
        now = (pio_key(self.rt.settings.pio), len(self.rt.registry.running()))
        return now != self._last

    def _run(self) -> None:
        s = self.rt.settings
        check = max(0.5, min(s.heartbeat_check, s.heartbeat_interval))
        waited = 0.0
        while not self._stop.wait(check):
            waited += check
            try:
                if (waited >= s.heartbeat_interval or self._changed()) and self.publish():
                    waited = 0.0
            except Exception:
                log.exception("heartbeat failed; trying again at the next check")

    def start(self) -> Heartbeat:
        if self.rt.settings.heartbeat_interval > 0:
            self.rt.link.on_connect.append(lambda _link: self._publish_soon())
            self._thread.start()
        return self

    def _publish_soon(self) -> None:
        # on paho's network thread: never block it with a `pio version` call
        threading.Thread(target=self._safe_publish, name="heartbeat-connect", daemon=True).start()

    def _safe_publish(self) -> None:
        try:
            self.publish()
        except Exception:
            log.exception("status publish on connect failed")

    def stop(self) -> None:
        self._stop.set()

"""Read Pioreactor's own job registry and caches (SQLite files `pio` writes); never write them.

Changes to the registry go through `pio` itself (see pio.py: `jobs purge`, `cache purge`). A row with
`is_running = 1` whose process is gone (a job killed with SIGKILL) is *stale*: it is not reported as running,
and the worker purges it before the job is started again, as real `pio` requires.
"""

from __future__ import annotations

import os
import sqlite3
from datetime import datetime
from pathlib import Path
from typing import Any

import msgspec


class JobRow(msgspec.Struct, frozen=True):
    job_id: int
    job_name: str
    experiment: str
    job_source: str | None
    pid: int
    started_at: str | None

    @property
    def alive(self) -> bool:
        return pid_alive(self.pid, self.started_at)


def pid_alive(pid: int, started_at: str | None = None) -> bool:
    """True while `pid` runs (not a zombie). With the registry's `started_at`, a process that started well
    after the row was written is a recycled pid, not the job (a job writes its row after it starts)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # another user's process: it exists
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return True  # no /proc here (or it just ended): trust kill(0)
    if fields[0] in ("Z", "X"):
        return False
    if started_at is not None:
        began, written = _process_start(int(fields[19])), _epoch(started_at)
        if began is not None and written and began > written + PID_REUSE_TOLERANCE:
            return False
    return True


PID_REUSE_TOLERANCE = 3.0  # seconds: /proc/stat's boot time is whole seconds, the clock may be adjusted
_boot_time: float | None = None


def _process_start(ticks: int) -> float | None:
    """Epoch seconds a process started, from its start time in clock ticks since boot."""
    global _boot_time
    if _boot_time is None:
        try:
            line = next(x for x in Path("/proc/stat").read_text().splitlines() if x.startswith("btime "))
            _boot_time = float(line.split()[1])
        except (OSError, StopIteration):
            return None
    return _boot_time + ticks / os.sysconf("SC_CLK_TCK")


def _epoch(iso: object) -> float:
    try:
        return datetime.fromisoformat(str(iso)).timestamp()
    except ValueError:
        return 0.0


def _connect_ro(path: Path) -> sqlite3.Connection | None:
    if not path.exists():
        return None
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
    db.execute("PRAGMA busy_timeout=5000")
    return db


class Registry:
    def __init__(self, registry: Path, persistent_cache: Path):
        self.path = registry
        self.persistent_cache = persistent_cache

    def _query(self, path: Path, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        try:
            db = _connect_ro(path)
        except sqlite3.Error:
            return []
        if db is None:
            return []
        try:
            return db.execute(sql, params).fetchall()
        except sqlite3.OperationalError:
            return []  # no such table yet: pio has not run a job here
        finally:
            db.close()

    def rows(
        self,
        job_name: str | None = None,
        experiment: str | None = None,
        job_source: str | None = None,
        job_id: int | None = None,
    ) -> list[JobRow]:
        """Rows marked running (stale ones included), filtered like `pio kill` filters."""
        sql = (
            "SELECT job_id, job_name, experiment, job_source, pid, started_at FROM pio_job_metadata "
            "WHERE is_running = 1"
        )
        params: list[Any] = []
        for column, value in (
            ("job_name", job_name),
            ("experiment", experiment),
            ("job_source", job_source),
            ("job_id", job_id),
        ):
            if value is not None:
                sql += f" AND {column} = ?"
                params.append(value)
        return [JobRow(*r) for r in self._query(self.path, sql + " ORDER BY job_id", tuple(params))]

    def running(self, **filters: Any) -> list[JobRow]:
        return [r for r in self.rows(**filters) if r.alive]

    def stale(self, **filters: Any) -> list[JobRow]:
        return [r for r in self.rows(**filters) if not r.alive]

    def published_settings(self, job_id: int) -> dict[str, str]:
        return {k: v for k, (v, _) in self.published_settings_at(job_id).items()}

    def published_settings_at(self, job_id: int) -> dict[str, tuple[str, float]]:
        """setting -> (value as text, when the job wrote it, epoch seconds; 0 when unknown)."""
        rows = self._query(
            self.path,
            "SELECT setting, value, updated_at FROM pio_job_published_settings "
            "WHERE job_id = ? AND value IS NOT NULL",
            (job_id,),
        )
        return {str(k): (v.decode() if isinstance(v, bytes) else str(v), _epoch(at)) for k, v, at in rows}

    def row_by_pid(self, pid: int) -> JobRow | None:
        rows = self._query(
            self.path,
            "SELECT job_id, job_name, experiment, job_source, pid, started_at FROM pio_job_metadata "
            "WHERE pid = ? AND is_running = 1 ORDER BY job_id DESC LIMIT 1",
            (pid,),
        )
        return JobRow(*rows[0]) if rows else None

    def dead_pwm_locks(self) -> list[int]:
        """PWM channels locked by a process that is gone (value `pid:thread`)."""
        dead = []
        for key, value in self._query(self.path, "SELECT key, value FROM cache_pwm_locks"):
            text = value.decode() if isinstance(value, bytes) else str(value)
            try:
                pid = int(text.split(":", 1)[0])
                pin = int(key)
            except ValueError:
                continue
            if not pid_alive(pid):
                dead.append(pin)
        return dead

    def active_calibrations(self) -> dict[str, str]:
        rows = self._query(self.persistent_cache, "SELECT key, value FROM cache_active_calibrations")
        out = {}
        for key, value in rows:
            k = key.decode() if isinstance(key, bytes) else str(key)
            v = value.decode() if isinstance(value, bytes) else str(value)
            out[k.strip('"')] = v.strip('"')
        return out

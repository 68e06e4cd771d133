"""The job registry, in the same SQLite file and tables real pio 26.11.1 uses.

A row is inserted with is_running=1 when a job starts and gets is_running=0 + ended_at when it stops
cleanly. A SIGKILLed job leaves its row running (stale): the next start of that job is refused until
`pio jobs purge --job-id N` removes it - exactly as on a real unit.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from pathlib import Path
from typing import Any

_SCHEMA = """
CREATE TABLE IF NOT EXISTS pio_job_metadata (
    job_id       INTEGER PRIMARY KEY AUTOINCREMENT,
    unit         TEXT NOT NULL,
    experiment   TEXT NOT NULL,
    job_name     TEXT NOT NULL,
    job_source   TEXT NOT NULL,
    started_at   TEXT NOT NULL,
    is_running   INTEGER NOT NULL,
    leader       TEXT NOT NULL,
    pid          INTEGER NOT NULL,
    is_long_running_job INTEGER NOT NULL,
    ended_at     TEXT
);
CREATE TABLE IF NOT EXISTS pio_job_published_settings (
    setting        TEXT NOT NULL,
    value          BLOB,
    proposed_value BLOB,
    created_at     TEXT,
    updated_at     TEXT,
    job_id         INTEGER NOT NULL,
    FOREIGN KEY(job_id) REFERENCES pio_job_metadata(job_id),
    UNIQUE(setting, job_id)
);
CREATE INDEX IF NOT EXISTS idx_pio_job_metadata_is_running ON pio_job_metadata(is_running);
CREATE INDEX IF NOT EXISTS idx_pio_job_metadata_is_running_experiment
    ON pio_job_metadata(is_running, experiment);
CREATE INDEX IF NOT EXISTS idx_pio_job_metadata_job_name ON pio_job_metadata(job_name);
CREATE INDEX IF NOT EXISTS idx_pio_job_published_settings_job_id ON pio_job_published_settings(job_id);
"""
# pio kill's order: pumps and heaters first, automations next, the rest last.
_KILL_PRIORITY = """CASE
    WHEN job_name LIKE '%pump%' THEN 1 WHEN job_name LIKE '%pwm%' THEN 1
    WHEN job_name LIKE '%temperature%' THEN 2 WHEN job_name LIKE '%heat%' THEN 2
    WHEN job_name LIKE '%_automation' THEN 3 ELSE 5 END"""


def now() -> str:
    """SQLite's STRFTIME('%Y-%m-%dT%H:%M:%fZ', 'NOW'), the format real pio stores."""
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


HISTORY_COLUMNS = "job_id, job_name, experiment, job_source, unit, started_at, ended_at, pid"


class Registry:
    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        # a job shares one connection between its threads, always under the job's lock
        self.conn = sqlite3.connect(path, isolation_level=None, timeout=15, check_same_thread=False)
        self.conn.execute("PRAGMA busy_timeout = 15000")
        self.conn.executescript(_SCHEMA)

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> Registry:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def register(
        self,
        unit: str,
        experiment: str,
        job_name: str,
        job_source: str,
        pid: int,
        leader: str,
        long_running: bool,
    ) -> int:
        cur = self.conn.execute(
            "INSERT INTO pio_job_metadata (started_at, is_running, job_source, experiment, unit, job_name,"
            " leader, pid, is_long_running_job, ended_at) VALUES (?, 1, ?, ?, ?, ?, ?, ?, ?, NULL)",
            (now(), job_source, experiment, unit, job_name, leader, pid, int(long_running)),
        )
        assert cur.lastrowid is not None
        return int(cur.lastrowid)

    def set_not_running(self, job_id: int) -> None:
        self.conn.execute(
            "UPDATE pio_job_metadata SET is_running=0, ended_at=? WHERE job_id=?", (now(), job_id)
        )

    def running_job_id(self, job_name: str) -> int | None:
        row = self.conn.execute(
            "SELECT job_id FROM pio_job_metadata WHERE job_name=? AND is_running=1"
            " ORDER BY started_at DESC LIMIT 1",
            (job_name,),
        ).fetchone()
        return int(row[0]) if row else None

    def upsert_setting(self, job_id: int, setting: str, value: Any) -> None:
        if value is None:
            self.conn.execute(
                "DELETE FROM pio_job_published_settings WHERE setting=? AND job_id=?", (setting, job_id)
            )
            return
        if isinstance(value, dict):
            value = json.dumps(value, separators=(",", ":"))
        self.conn.execute(
            "INSERT INTO pio_job_published_settings (setting, value, job_id, created_at, updated_at)"
            " VALUES (:s, :v, :j, :now, :now) ON CONFLICT (setting, job_id) DO UPDATE"
            " SET value=:v, updated_at=:now",
            {"s": setting, "v": value, "j": job_id, "now": now()},
        )

    def history(self, running_only: bool = False) -> list[tuple[Any, ...]]:
        where = "WHERE ended_at IS NULL" if running_only else ""
        return self.conn.execute(
            f"SELECT {HISTORY_COLUMNS} FROM pio_job_metadata {where} ORDER BY started_at DESC"  # noqa: S608
        ).fetchall()

    def job(self, job_id: int) -> tuple[Any, ...] | None:
        row: tuple[Any, ...] | None = self.conn.execute(
            f"SELECT {HISTORY_COLUMNS} FROM pio_job_metadata WHERE job_id=?",  # noqa: S608
            (job_id,),
        ).fetchone()
        return row

    def settings(self, job_id: int) -> list[tuple[Any, ...]]:
        return self.conn.execute(
            "SELECT setting, value, created_at, updated_at FROM pio_job_published_settings"
            " WHERE job_id=? ORDER BY setting",
            (job_id,),
        ).fetchall()

    def jobs_to_kill(self, all_jobs: bool, filters: dict[str, str | int]) -> list[tuple[str, int, int]]:
        """(job_name, pid, job_id) of matching running jobs; --all-jobs spares long-running ones."""
        if all_jobs:
            where, params = "is_running=1 AND is_long_running_job=0", {}
        else:
            # keys come from a fixed set of option names, never from input
            where = " AND ".join(["is_running=1", *(f"{k} = :{k}" for k in filters)])
            params = filters
        return self.conn.execute(
            f"SELECT job_name, pid, job_id FROM pio_job_metadata WHERE {where} ORDER BY {_KILL_PRIORITY}",  # noqa: S608
            params,
        ).fetchall()

    # ---- real pio's key/value caches in the same file (cache_<name>): PWM pin locks ----------------
    def _cache(self, name: str) -> str:
        table = f"cache_{name}"
        if not table.replace("_", "").isalnum():
            raise ValueError(f"bad cache name {name!r}")
        self.conn.execute(f"CREATE TABLE IF NOT EXISTS {table} (key _key_BLOB PRIMARY KEY, value BLOB)")
        return table

    def lock_pin(self, pin: int, owner: str) -> bool:
        """Claim a PWM pin; False when another (maybe long dead) job holds it - real pio's pwm_locks."""
        table = self._cache("pwm_locks")
        cur = self.conn.execute(f"INSERT OR IGNORE INTO {table} (key, value) VALUES (?, ?)", (pin, owner))  # noqa: S608
        return cur.rowcount == 1

    def unlock_pin(self, pin: int, owner: str) -> None:
        table = self._cache("pwm_locks")
        self.conn.execute(f"DELETE FROM {table} WHERE key=? AND value=?", (pin, owner))  # noqa: S608

    def cache_purge(self, name: str, keys: list[Any]) -> Any | None:
        """Delete the first of `keys` present in cache `name`; the key removed, or None."""
        table = self._cache(name)
        for key in keys:
            if self.conn.execute(f"DELETE FROM {table} WHERE key=?", (key,)).rowcount:  # noqa: S608
                return key
        return None

    def remove(self, job_id: int) -> int:
        self.conn.execute("DELETE FROM pio_job_published_settings WHERE job_id=?", (job_id,))
        return self.conn.execute("DELETE FROM pio_job_metadata WHERE job_id=?", (job_id,)).rowcount

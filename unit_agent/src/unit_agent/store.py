"""The agent's own SQLite file (`agent.sqlite` in the data directory): task results, job runs, facts.

Both processes use it: the web process records a task as pending before it enqueues it, the worker records
how it ended. A result stays readable (any number of times) until `result_ttl` after it finished; then it is
unknown. WAL mode and a busy timeout let the two processes share the file.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

import msgspec

from cluster_schema.agent import TaskResult

# Ordered migrations; PRAGMA user_version counts the ones applied. Idempotent statements: the web process
# and the worker may both open a fresh file at the same moment.
MIGRATIONS = [
    """
    CREATE TABLE IF NOT EXISTS task_results (
        task_id     TEXT PRIMARY KEY,
        kind        TEXT NOT NULL,
        status      TEXT NOT NULL,          -- pending | running | complete | failed
        result      BLOB,
        error       TEXT,
        created_at  REAL NOT NULL,
        finished_at REAL
    );
    CREATE INDEX IF NOT EXISTS task_results_finished ON task_results(finished_at);
    CREATE TABLE IF NOT EXISTS job_runs (
        pid         INTEGER NOT NULL,
        job_name    TEXT NOT NULL,
        experiment  TEXT,
        log_path    TEXT NOT NULL,
        started_at  REAL NOT NULL,
        ended_at    REAL,
        exit_code   INTEGER
    );
    CREATE INDEX IF NOT EXISTS job_runs_pid ON job_runs(pid, started_at);
    CREATE TABLE IF NOT EXISTS facts (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    """,
    # how long each job took from `pio run` to ready (or failing), for /unit_api/metrics
    """
    CREATE TABLE IF NOT EXISTS job_starts (
        job_name   TEXT NOT NULL,
        started_at REAL NOT NULL,
        seconds    REAL NOT NULL,
        outcome    TEXT NOT NULL            -- ready | finished | failed
    );
    """,
]


class Store:
    def __init__(self, path: Path, result_ttl: float):
        self.path = path
        self.result_ttl = result_ttl
        self._db: sqlite3.Connection | None = None
        self._pid = 0
        self._lock = threading.Lock()
        path.parent.mkdir(parents=True, exist_ok=True)
        db = self._open()  # closed again: a connection must not cross a fork (gunicorn preload)
        try:
            version = db.execute("PRAGMA user_version").fetchone()[0]
            for i, script in enumerate(MIGRATIONS[version:], start=version + 1):
                db.executescript(f"BEGIN; {script}; PRAGMA user_version = {i}; COMMIT;")
        finally:
            db.close()

    def _open(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=10, isolation_level=None, check_same_thread=False)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.execute("PRAGMA busy_timeout=10000")
        return db

    def _sql(self, sql: str, args: tuple[Any, ...] = ()) -> tuple[list[Any], int]:
        """Run one statement: (its rows, its rowcount).

        One connection per process, one statement at a time: the statements take well under a millisecond,
        and a connection per thread cost ~110 KB each (SQLite's own caches; the worker held six), plus what
        glibc kept of each short-lived thread's (~50 KB, once per job start)."""
        with self._lock:
            if self._db is None or self._pid != os.getpid():  # never a connection from before a fork
                self._db, self._pid = self._open(), os.getpid()
            cur = self._db.execute(sql, args)
            return cur.fetchall(), cur.rowcount

    # -- task results ------------------------------------------------------------------------------------
    def task_pending(self, task_id: str, kind: str) -> None:
        self._sql(
            "INSERT OR REPLACE INTO task_results (task_id, kind, status, created_at) "
            "VALUES (?, ?, 'pending', ?)",
            (task_id, kind, time.time()),
        )

    def task_running(self, task_id: str, kind: str) -> float:
        """Mark it running; answer how many seconds it waited since it was queued."""
        # INSERT as well: a task enqueued by something other than the web app still gets a row.
        now = time.time()
        rows, _ = self._sql(
            "INSERT INTO task_results (task_id, kind, status, created_at) VALUES (?, ?, 'running', ?) "
            "ON CONFLICT(task_id) DO UPDATE SET status = 'running' RETURNING created_at",
            (task_id, kind, now),
        )
        return now - float(rows[0][0]) if rows else 0.0

    def task_finished(self, task_id: str, result: Any = None, error: str | None = None) -> None:
        status = "failed" if error is not None else "complete"
        self._sql(
            "UPDATE task_results SET status = ?, result = ?, error = ?, finished_at = ? WHERE task_id = ?",
            (status, msgspec.json.encode(result), error, time.time(), task_id),
        )

    def task_result(self, task_id: str) -> TaskResult:
        rows, _ = self._sql(
            "SELECT status, result, error, finished_at FROM task_results WHERE task_id = ?", (task_id,)
        )
        row = rows[0] if rows else None
        if row is None or (row[3] is not None and row[3] < time.time() - self.result_ttl):
            return TaskResult(status="unknown")
        status, result, error, _ = row
        if status in ("pending", "running"):
            return TaskResult(status="pending")
        return TaskResult(status=status, result=msgspec.json.decode(result) if result else None, error=error)

    def expire_results(self) -> int:
        cutoff = time.time() - self.result_ttl
        return self._sql("DELETE FROM task_results WHERE finished_at < ?", (cutoff,))[1]

    def interrupt_running(self) -> None:
        """At worker start: a task marked running belonged to a worker that is gone."""
        self._sql(
            "UPDATE task_results SET status = 'failed', error = 'The worker restarted while this task ran.', "
            "finished_at = ? WHERE status = 'running'",
            (time.time(),),
        )

    # -- job runs (exit codes of the jobs this agent started) -------------------------------------------
    def run_started(self, pid: int, job_name: str, experiment: str | None, log_path: Path) -> None:
        self._sql(
            "INSERT INTO job_runs (pid, job_name, experiment, log_path, started_at) VALUES (?, ?, ?, ?, ?)",
            (pid, job_name, experiment, str(log_path), time.time()),
        )

    def run_ended(self, pid: int, exit_code: int | None) -> None:
        self._sql(
            "UPDATE job_runs SET ended_at = ?, exit_code = ? WHERE rowid = "
            "(SELECT max(rowid) FROM job_runs WHERE pid = ?)",
            (time.time(), exit_code, pid),
        )

    def run_exit_code(self, pid: int) -> tuple[bool, int | None]:
        """(ended, exit code) of the latest run with this pid; (False, None) when unknown or still running."""
        rows, _ = self._sql(
            "SELECT ended_at, exit_code FROM job_runs WHERE pid = ? ORDER BY rowid DESC LIMIT 1", (pid,)
        )
        row = rows[0] if rows else None
        return (row is not None and row[0] is not None, row[1] if row else None)

    def job_start(self, job_name: str, seconds: float, outcome: str) -> None:
        self._sql(
            "INSERT INTO job_starts (job_name, started_at, seconds, outcome) VALUES (?, ?, ?, ?)",
            (job_name, time.time(), seconds, outcome),
        )

    def query(self, sql: str, args: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        """Read-only SQL for /unit_api/metrics."""
        return [tuple(r) for r in self._sql(sql, args)[0]]

    # -- facts learnt by the worker (pio version…) for the web process ------------------------------------
    def set_fact(self, key: str, value: str) -> None:
        self._sql("INSERT OR REPLACE INTO facts (key, value) VALUES (?, ?)", (key, value))

    def fact(self, key: str, default: str = "") -> str:
        rows, _ = self._sql("SELECT value FROM facts WHERE key = ?", (key,))
        return str(rows[0][0]) if rows else default

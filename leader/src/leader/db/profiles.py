"""Saved experiment profiles and the plans of `profile.run` operations."""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterable
from typing import Any, NamedTuple

from cluster_schema.errors import NotFound
from cluster_schema.profiles import PlanEntry, ProfileSummary

from . import now, transaction


def list_profiles(db: sqlite3.Connection) -> list[ProfileSummary]:
    rows = db.execute("SELECT name, title, description, updated_at FROM profiles ORDER BY name").fetchall()
    return [
        ProfileSummary(name=r[0], experiment_profile_name=r[1], description=r[2], updated_at=r[3])
        for r in rows
    ]


def get_yaml(db: sqlite3.Connection, name: str) -> str:
    row = db.execute("SELECT yaml FROM profiles WHERE name = ?", (name,)).fetchone()
    if row is None:
        raise NotFound(f"No profile named {name!r}.")
    return str(row[0])


def put(db: sqlite3.Connection, name: str, title: str, description: str | None, text: str) -> bool:
    """Save; True when the profile is new."""
    stamp = now()
    with transaction(db):
        existed = db.execute("SELECT 1 FROM profiles WHERE name = ?", (name,)).fetchone() is not None
        db.execute(
            "INSERT INTO profiles (name, title, description, yaml, created_at, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (name) DO UPDATE SET title = excluded.title, "
            "description = excluded.description, yaml = excluded.yaml, updated_at = excluded.updated_at",
            (name, title, description, text, stamp, stamp),
        )
    return not existed


def delete(db: sqlite3.Connection, name: str) -> None:
    with transaction(db):
        if db.execute("DELETE FROM profiles WHERE name = ?", (name,)).rowcount == 0:
            raise NotFound(f"No profile named {name!r}.")


# ---- plans ------------------------------------------------------------------------------------------


class Row(NamedTuple):
    """A plan row: what the planner makes and the driver fires."""

    at: float
    priority: int
    unit: str
    block: str
    job: str
    action: str
    idx: tuple[int, ...]
    iteration: int = 0
    status: str = "pending"
    detail: str = ""
    seq: int = 0
    operation_id: str | None = None


_COLUMNS = "seq, at, priority, unit, block, job, action, idx, iteration, status, detail, operation_id"


def iso(ts: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ts)) + f".{int(ts % 1 * 1000):03d}Z"


def add_rows(db: sqlite3.Connection, run_id: str, rows: Iterable[Row]) -> None:
    """Append rows after the run's last seq (call inside the caller's transaction)."""
    start = db.execute(
        "SELECT coalesce(max(seq), 0) FROM profile_plan WHERE run_id = ?", (run_id,)
    ).fetchone()
    base = int(start[0])
    db.executemany(
        "INSERT INTO profile_plan (run_id, seq, at, priority, unit, block, job, action, idx, iteration, "
        "status, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (
                run_id,
                base + i,
                r.at,
                r.priority,
                r.unit,
                r.block,
                r.job,
                r.action,
                json.dumps(r.idx),
                r.iteration,
                r.status,
                r.detail,
            )
            for i, r in enumerate(rows, start=1)
        ],
    )


def _row(r: sqlite3.Row | tuple[Any, ...]) -> Row:
    seq, at, priority, unit, block, job, action, idx, iteration, status, detail, op_id = r
    return Row(
        at, priority, unit, block, job, action, tuple(json.loads(idx)), iteration, status, detail, seq, op_id
    )


def due(db: sqlite3.Connection, run_id: str, until: float) -> list[Row]:
    """Pending rows whose time has come, in the real order: time, then action priority, then plan order."""
    rows = db.execute(
        f"SELECT {_COLUMNS} FROM profile_plan WHERE run_id = ? AND status = 'pending' AND at <= ? "  # noqa: S608
        "ORDER BY at, priority, seq",
        (run_id, until),
    ).fetchall()
    return [_row(r) for r in rows]


def rows_with(db: sqlite3.Connection, run_id: str, status: str) -> list[Row]:
    rows = db.execute(
        f"SELECT {_COLUMNS} FROM profile_plan WHERE run_id = ? AND status = ? ORDER BY seq",  # noqa: S608
        (run_id, status),
    ).fetchall()
    return [_row(r) for r in rows]


def claim(db: sqlite3.Connection, run_id: str, seq: int) -> bool:
    """pending -> running; False when another pass (or a previous worker) took the row already."""
    cur = db.execute(
        "UPDATE profile_plan SET status = 'running' WHERE run_id = ? AND seq = ? AND status = 'pending'",
        (run_id, seq),
    )
    return cur.rowcount == 1


def settle(
    db: sqlite3.Connection,
    run_id: str,
    seq: int,
    status: str,
    detail: str,
    operation_id: str | None = None,
    at: float | None = None,
) -> None:
    db.execute(
        "UPDATE profile_plan SET status = ?, detail = ?, operation_id = coalesce(?, operation_id), "
        "at = coalesce(?, at) WHERE run_id = ? AND seq = ?",
        (status, detail[:2000], operation_id, at, run_id, seq),
    )


def cancel_pending(db: sqlite3.Connection, run_id: str, detail: str) -> int:
    cur = db.execute(
        "UPDATE profile_plan SET status = 'skipped', detail = ? WHERE run_id = ? AND status = 'pending'",
        (detail, run_id),
    )
    return cur.rowcount


def counts(db: sqlite3.Connection, run_id: str) -> dict[str, int]:
    rows = db.execute(
        "SELECT status, count(*) FROM profile_plan WHERE run_id = ? GROUP BY status", (run_id,)
    ).fetchall()
    return {r[0]: r[1] for r in rows}


def plan(db: sqlite3.Connection, run_id: str) -> list[PlanEntry]:
    rows = db.execute(
        "SELECT at, unit, job, action, status, operation_id, detail FROM profile_plan WHERE run_id = ? "
        "ORDER BY at, priority, seq",
        (run_id,),
    ).fetchall()
    return [
        PlanEntry(at=iso(r[0]), unit=r[1], job=r[2], action=r[3], status=r[4], operation_id=r[5], detail=r[6])
        for r in rows
    ]


def open_runs(db: sqlite3.Connection) -> list[str]:
    """`profile.run` operations the driver owns: queued or running."""
    rows = db.execute(
        "SELECT id FROM operations WHERE kind = 'profile.run' AND status IN ('queued', 'running') "
        "ORDER BY created_at"
    ).fetchall()
    return [r[0] for r in rows]


def close_ended(db: sqlite3.Connection) -> int:
    """Rows left open by a run that ended without the driver (cancelled while queued): skipped."""
    cur = db.execute(
        "UPDATE profile_plan SET status = 'skipped', detail = 'the run ended before this action' "
        "WHERE status IN ('pending', 'running') AND run_id IN (SELECT id FROM operations "
        "WHERE kind = 'profile.run' AND status NOT IN ('queued', 'running'))"
    )
    return cur.rowcount

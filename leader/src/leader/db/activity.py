"""What the cluster did, read for the pages: operation summaries, filtered lists, per-kind figures,
and running jobs grouped by experiment. Aggregated in SQL so a dashboard over 10,000 operations stays
one page load of a few queries (no per-operation step reads).
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, tzinfo
from typing import Any

from cluster_schema.leader import FINISHED

from . import units as units_db
from .job_states import RUNNING_STATES
from .presence import presence_for


@dataclass
class OpSummary:
    id: str
    kind: str
    status: str
    trigger: str
    created_at: str
    finished_at: str | None
    requested_by: str
    targets: int
    steps: dict[str, int] = field(default_factory=dict)  # step status -> count

    @property
    def done(self) -> int:
        return self.steps.get("ok", 0) + self.steps.get("failed", 0)


@dataclass
class KindFigures:
    kind: str
    total: int = 0
    succeeded: int = 0
    finished: int = 0
    by_status: dict[str, int] = field(default_factory=dict)

    @property
    def success_rate(self) -> float | None:
        return self.succeeded / self.finished if self.finished else None


def _summaries(db: sqlite3.Connection, rows: list[sqlite3.Row]) -> list[OpSummary]:
    ops = [
        OpSummary(
            id=r["id"],
            kind=r["kind"],
            status=r["status"],
            trigger=r["trigger"],
            created_at=r["created_at"],
            finished_at=r["finished_at"],
            requested_by=r["who"] or "unknown",
            targets=len(json.loads(r["targets"])),
        )
        for r in rows
    ]
    if ops:
        by_id = {op.id: op for op in ops}
        marks = ",".join("?" * len(by_id))
        for op_id, status, count in db.execute(
            f"SELECT operation_id, status, count(*) FROM operation_steps "  # noqa: S608
            f"WHERE operation_id IN ({marks}) GROUP BY operation_id, status",
            list(by_id),
        ):
            by_id[op_id].steps[status] = count
    return ops


def operations(
    db: sqlite3.Connection,
    *,
    kind: str | None = None,
    status: str | None = None,
    who: str | None = None,
    unit: str | None = None,
    before: str | None = None,
    limit: int = 50,
) -> list[OpSummary]:
    """Newest first; `before` is an operation id (the previous page's last)."""
    where, args = [], []
    for column, value in (("kind", kind), ("status", status), ("requested_by", who)):
        if value:
            where.append(f"{column} = ?")
            args.append(value)
    if unit:
        where.append("id IN (SELECT operation_id FROM operation_steps WHERE unit = ?)")
        args.append(unit)
    if before:
        where.append("(created_at, id) < (SELECT created_at, id FROM operations WHERE id = ?)")
        args.append(before)
    clause = ("WHERE " + " AND ".join(where)) if where else ""
    rows = db.execute(
        f"SELECT id, kind, status, trigger, created_at, finished_at, targets, requested_by AS who "  # noqa: S608
        f"FROM operations {clause} ORDER BY created_at DESC, id DESC LIMIT ?",
        (*args, limit),
    ).fetchall()
    return _summaries(db, rows)


def kind_figures(db: sqlite3.Connection, since: str) -> list[KindFigures]:
    """Totals and success rate per kind of the operations created since `since` (ISO, UTC)."""
    figures: dict[str, KindFigures] = {}
    for kind, status, count in db.execute(
        "SELECT kind, status, count(*) FROM operations WHERE created_at >= ? GROUP BY kind, status", (since,)
    ):
        f = figures.setdefault(kind, KindFigures(kind))
        f.total += count
        f.by_status[status] = count
        if status in FINISHED:
            f.finished += count
        if status == "succeeded":
            f.succeeded += count
    return sorted(figures.values(), key=lambda f: (-f.total, f.kind))


def distinct(db: sqlite3.Connection, column: str) -> list[str]:
    """Values offered by the operations filter (`kind` or who asked)."""
    assert column in ("kind", "created_by", "requested_by")
    rows = db.execute(f"SELECT DISTINCT {column} FROM operations WHERE {column} IS NOT NULL ORDER BY 1")  # noqa: S608
    return [r[0] for r in rows]


@dataclass
class RunningJob:
    unit: str
    job: str
    state: str


def running_by_experiment(db: sqlite3.Connection) -> dict[str, list[RunningJob]]:
    marks = ",".join("?" * len(RUNNING_STATES))
    out: dict[str, list[RunningJob]] = {}
    for exp, unit, job, state in db.execute(
        f"SELECT experiment, unit, job, state FROM job_states WHERE state IN ({marks}) "  # noqa: S608
        "ORDER BY experiment, job, unit",
        RUNNING_STATES,
    ):
        out.setdefault(exp, []).append(RunningJob(unit, job, state))
    return out


def running_on_unit(db: sqlite3.Connection, unit: str) -> list[tuple[str, str, str]]:
    """(experiment, job, state) of the jobs running on one unit."""
    marks = ",".join("?" * len(RUNNING_STATES))
    rows = db.execute(
        f"SELECT experiment, job, state FROM job_states WHERE unit = ? AND state IN ({marks}) "  # noqa: S608
        "ORDER BY experiment, job",
        (unit, *RUNNING_STATES),
    )
    return [(r[0], r[1], r[2]) for r in rows]


def experiment_of(db: sqlite3.Connection, unit: str) -> str | None:
    row = db.execute(
        "SELECT experiment FROM assignments WHERE unit = ? AND unassigned_at IS NULL", (unit,)
    ).fetchone()
    return row[0] if row else None


def per_day(db: sqlite3.Connection, since: str, zone: tzinfo, days: int) -> list[tuple[date, int, int]]:
    """(day in the lab's zone, succeeded, did not succeed) for each of the last `days` days, oldest first.

    Counted per UTC hour in SQL (at most 24 x days groups, not one row per operation), each hour then
    dated in the lab's zone: exact across DST changes; in the few zones offset by a half or quarter hour
    an operation within that part of an hour of midnight may count on the neighbouring day.
    """
    today = datetime.now(zone).date()
    counts = {today - timedelta(days=i): [0, 0] for i in range(days)}
    marks = ",".join("?" * len(FINISHED))
    for hour, succeeded, count in db.execute(
        f"SELECT substr(created_at, 1, 13), status = 'succeeded', count(*) FROM operations "  # noqa: S608
        f"WHERE created_at >= ? AND status IN ({marks}) GROUP BY 1, 2",
        (since, *sorted(FINISHED)),
    ):
        when = datetime.fromisoformat(hour + ":30:00+00:00").astimezone(zone).date()
        if when in counts:
            counts[when][0 if succeeded else 1] += count
    return [(day, ok, other) for day, (ok, other) in sorted(counts.items())]


def units(db: sqlite3.Connection) -> list[dict[str, Any]]:
    """Units with presence `lost` told apart from `offline` (the agent's last will vs its goodbye)."""
    found = units_db.list_units(db)
    raw = presence_for(db, [u.name for u in found])
    return [
        {
            "name": u.name,
            "presence": "lost" if raw[u.name].status == "lost" else u.presence,
            "last_seen": u.last_seen,
            "active": u.active,
            "address": u.address,
            "port": u.port,
            "model": u.model,
        }
        for u in found
    ]


def requested_by(db: sqlite3.Connection, op_id: str) -> str:
    row = db.execute("SELECT requested_by FROM operations WHERE id = ?", (op_id,)).fetchone()
    return (row[0] if row else None) or "unknown"

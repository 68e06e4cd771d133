"""Operations, their per-unit steps and their ordered lines."""

from __future__ import annotations

import json
import sqlite3
import uuid
from typing import Any

from cluster_schema.errors import NotFound
from cluster_schema.leader import FINISHED, Operation, OperationLine, OperationStep

from . import now, profiles, transaction


def _steps(db: sqlite3.Connection, op_id: str) -> list[OperationStep]:
    rows = db.execute(
        "SELECT unit, status, detail, updated_at FROM operation_steps WHERE operation_id = ? ORDER BY unit",
        (op_id,),
    ).fetchall()
    return [OperationStep(unit=r[0], status=r[1], detail=r[2], updated_at=r[3]) for r in rows]


def _operation(db: sqlite3.Connection, row: sqlite3.Row, with_steps: bool = True) -> Operation:
    return Operation(
        id=row["id"],
        kind=row["kind"],
        status=row["status"],
        trigger=row["trigger"],
        params=json.loads(row["params"]),
        targets=json.loads(row["targets"]),
        created_at=row["created_at"],
        started_at=row["started_at"],
        finished_at=row["finished_at"],
        steps=_steps(db, row["id"]) if with_steps else [],
        requested_by=row["requested_by"],
        plan=profiles.plan(db, row["id"]) if row["kind"] == "profile.run" and with_steps else None,
    )


def create(
    db: sqlite3.Connection,
    kind: str,
    params: dict[str, Any],
    targets: list[str],
    trigger: str,
    created_by: str | None = None,
) -> Operation:
    op_id = uuid.uuid4().hex
    stamp = now()
    with transaction(db):
        db.execute(
            "INSERT INTO operations (id, kind, status, trigger, params, targets, created_at, created_by, "
            "requested_by) VALUES (?, ?, 'queued', ?, ?, ?, ?, ?, ?)",
            (
                op_id,
                kind,
                trigger,
                json.dumps(params),
                json.dumps(targets),
                stamp,
                created_by,
                created_by or "unknown",
            ),
        )
        db.executemany(
            "INSERT INTO operation_steps (operation_id, unit, status, updated_at) "
            "VALUES (?, ?, 'pending', ?)",
            [(op_id, unit, stamp) for unit in targets],
        )
        add_line(db, op_id, "info", f"{kind} queued for {len(targets)} unit(s) by {created_by or trigger}")
    return get(db, op_id)


def get(db: sqlite3.Connection, op_id: str, *, with_steps: bool = True) -> Operation:
    """`with_steps=False`: the operation alone (its `steps` empty), for callers that need only its kind,
    params and targets: reading a 1,000-unit operation's steps costs more than its fan-out's bookkeeping."""
    row = db.execute("SELECT * FROM operations WHERE id = ?", (op_id,)).fetchone()
    if row is None:
        raise NotFound(f"No operation with id {op_id!r}.")
    return _operation(db, row, with_steps)


def status(db: sqlite3.Connection, op_id: str) -> tuple[str, bool]:
    """(status, cancel requested) — the cheap read the engine polls."""
    row = db.execute("SELECT status, cancel_requested FROM operations WHERE id = ?", (op_id,)).fetchone()
    if row is None:
        raise NotFound(f"No operation with id {op_id!r}.")
    return row[0], bool(row[1])


def list_operations(
    db: sqlite3.Connection,
    *,
    kind: str | None = None,
    status: str | None = None,
    before: str | None = None,
    limit: int = 50,
) -> list[Operation]:
    where, args = [], []
    for column, value in (("kind", kind), ("status", status)):
        if value:
            where.append(f"{column} = ?")
            args.append(value)
    if before:  # cursor: an operation id or a timestamp; newest first
        where.append("created_at < coalesce((SELECT created_at FROM operations WHERE id = ?), ?)")
        args += [before, before]
    clause = ("WHERE " + " AND ".join(where)) if where else ""
    rows = db.execute(
        f"SELECT * FROM operations {clause} ORDER BY created_at DESC, id DESC LIMIT ?",  # noqa: S608
        (*args, limit),
    ).fetchall()
    return [_operation(db, r) for r in rows]


def add_line(db: sqlite3.Connection, op_id: str, level: str, text: str, unit: str | None = None) -> int:
    with transaction(db):
        seq = db.execute(
            "SELECT coalesce(max(seq), 0) + 1 FROM operation_lines WHERE operation_id = ?", (op_id,)
        ).fetchone()[0]
        db.execute(
            "INSERT INTO operation_lines (operation_id, seq, time, level, text, unit) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (op_id, seq, now(), level, text, unit),
        )
    return int(seq)


def lines(db: sqlite3.Connection, op_id: str, after: int = 0, limit: int = 1000) -> list[OperationLine]:
    rows = db.execute(
        "SELECT seq, time, level, text, unit FROM operation_lines WHERE operation_id = ? AND seq > ? "
        "ORDER BY seq LIMIT ?",
        (op_id, after, limit),
    ).fetchall()
    return [OperationLine(seq=r[0], time=r[1], level=r[2], text=r[3], unit=r[4]) for r in rows]


def set_step(db: sqlite3.Connection, op_id: str, unit: str, status: str, detail: str = "") -> None:
    with transaction(db):
        db.execute(
            "UPDATE operation_steps SET status = ?, detail = ?, updated_at = ? "
            "WHERE operation_id = ? AND unit = ?",
            (status, detail[:2000], now(), op_id, unit),
        )


def record_steps(db: sqlite3.Connection, op_id: str, outcomes: list[tuple[str, bool, str]]) -> None:
    """(unit, ok, detail) of steps that finished together: each step and its line, in one transaction.

    A fan-out's arrivals come in batches of hundreds. Two statements over a JSON array, not two per
    step: each statement's step releases the GIL and must take it back from the agent loop's thread (up to
    the 5 ms switch interval each), which made storing a 1,000-unit batch take longer than its requests."""
    stamp = now()
    rows = json.dumps(
        [
            [unit, "ok" if ok else "failed", detail[:2000], "info" if ok else "error"]
            for unit, ok, detail in outcomes
        ]
    )
    with transaction(db):
        db.execute(  # an upsert, not UPDATE ... FROM: that one scanned the batch for every step
            "INSERT INTO operation_steps (operation_id, unit, status, detail, updated_at) "
            "SELECT ?, value->>0, value->>1, value->>2, ? FROM json_each(?) WHERE true "
            "ON CONFLICT (operation_id, unit) DO UPDATE SET "
            "status = excluded.status, detail = excluded.detail, updated_at = excluded.updated_at",
            (op_id, stamp, rows),
        )
        db.execute(
            "INSERT INTO operation_lines (operation_id, seq, time, level, text, unit) "
            "SELECT ?, (SELECT coalesce(max(seq), 0) FROM operation_lines WHERE operation_id = ?) + key + 1, "
            "?, value->>3, (value->>0) || ': ' || (value->>2), value->>0 FROM json_each(?) ORDER BY key",
            (op_id, op_id, stamp, rows),
        )


def steps_running(db: sqlite3.Connection, op_id: str) -> None:
    with transaction(db):
        db.execute(
            "UPDATE operation_steps SET status = 'running', updated_at = ? "
            "WHERE operation_id = ? AND status = 'pending'",
            (now(), op_id),
        )


def mark_started(db: sqlite3.Connection, op_id: str) -> bool:
    """queued → running; False when the operation is no longer queued (cancelled meanwhile, or done)."""
    with transaction(db):
        cur = db.execute(
            "UPDATE operations SET status = 'running', started_at = ? WHERE id = ? AND status = 'queued'",
            (now(), op_id),
        )
    return cur.rowcount == 1


def finish(db: sqlite3.Connection, op_id: str, status: str, unfinished_detail: str = "") -> None:
    """Set the final status; steps still pending or running fail with `unfinished_detail`."""
    assert status in FINISHED
    stamp = now()
    with transaction(db):
        db.execute(
            "UPDATE operation_steps SET status = 'failed', detail = ?, updated_at = ? "
            "WHERE operation_id = ? AND status IN ('pending', 'running')",
            (unfinished_detail or status, stamp, op_id),
        )
        db.execute(
            "UPDATE operations SET status = ?, finished_at = ?, started_at = coalesce(started_at, ?) "
            "WHERE id = ?",
            (status, stamp, stamp, op_id),
        )


def request_cancel(db: sqlite3.Connection, op_id: str) -> str:
    """Queued operations are cancelled at once; running ones are flagged for the engine. Returns status."""
    with transaction(db):
        current, _ = status(db, op_id)
        if current == "queued":
            finish(db, op_id, "cancelled", "cancelled before it started")
            add_line(db, op_id, "warning", "cancelled before it started")
        elif current == "running":
            db.execute("UPDATE operations SET cancel_requested = 1 WHERE id = ?", (op_id,))
            add_line(db, op_id, "warning", "cancellation requested")
    return status(db, op_id)[0]


def interrupt_running(db: sqlite3.Connection) -> list[str]:
    """At worker start-up: operations left `running` by a crashed worker become `interrupted`.

    Not a `profile.run`: its plan is in the store and the profile driver resumes it."""
    with transaction(db):
        ids = [
            r[0]
            for r in db.execute(
                "SELECT id FROM operations WHERE status = 'running' AND kind != 'profile.run'"
            )
        ]
        for op_id in ids:
            finish(db, op_id, "interrupted", "interrupted: the leader worker stopped during the operation")
            add_line(
                db, op_id, "error", "the leader worker stopped during this operation; marked interrupted"
            )
    return ids


def queued(db: sqlite3.Connection) -> list[tuple[str, str]]:
    """(id, kind) of every queued operation, oldest first."""
    rows = db.execute("SELECT id, kind FROM operations WHERE status = 'queued' ORDER BY created_at")
    return [(r[0], r[1]) for r in rows]


def step_counts(db: sqlite3.Connection, op_id: str) -> dict[str, int]:
    rows = db.execute(
        "SELECT status, count(*) FROM operation_steps WHERE operation_id = ? GROUP BY status", (op_id,)
    ).fetchall()
    return {r[0]: r[1] for r in rows}

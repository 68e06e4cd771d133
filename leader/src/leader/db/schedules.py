"""Schedules and their firings (the leader worker's scheduler follows these rows)."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

import msgspec

from cluster_schema import codec
from cluster_schema.errors import NotFound
from cluster_schema.schedules import Action, Firing, LastRun, Trigger

from . import now, transaction
from . import operations as ops_db

_trigger: msgspec.json.Decoder[Trigger] = msgspec.json.Decoder(Trigger)
_action: msgspec.json.Decoder[Action] = msgspec.json.Decoder(Action)


@dataclass(frozen=True)
class Row:
    id: int
    name: str
    trigger: Trigger
    action: Action
    enabled: bool
    active_since: str
    created_at: str
    updated_at: str


def _row(r: sqlite3.Row) -> Row:
    return Row(
        id=r["id"],
        name=r["name"],
        trigger=_trigger.decode(r["trigger"]),
        action=_action.decode(r["action"]),
        enabled=bool(r["enabled"]),
        active_since=r["active_since"],
        created_at=r["created_at"],
        updated_at=r["updated_at"],
    )


def create(
    db: sqlite3.Connection,
    name: str,
    trigger: Trigger,
    action: Action,
    enabled: bool,
    created_by: str | None,
    stamp: str | None = None,
) -> Row:
    stamp = stamp or now()
    with transaction(db):
        cur = db.execute(
            "INSERT INTO schedules (name, trigger, action, enabled, active_since, created_at, updated_at, "
            "created_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                name,
                codec.encode(trigger),
                codec.encode(action),
                int(enabled),
                stamp,
                stamp,
                stamp,
                created_by,
            ),
        )
    return get(db, int(cur.lastrowid or 0))


def get(db: sqlite3.Connection, schedule_id: int) -> Row:
    r = db.execute("SELECT * FROM schedules WHERE id = ?", (schedule_id,)).fetchone()
    if r is None:
        raise NotFound(f"No schedule with id {schedule_id}.")
    return _row(r)


def find(db: sqlite3.Connection, schedule_id: int) -> Row | None:
    r = db.execute("SELECT * FROM schedules WHERE id = ?", (schedule_id,)).fetchone()
    return _row(r) if r is not None else None


def all_rows(db: sqlite3.Connection) -> list[Row]:
    return [_row(r) for r in db.execute("SELECT * FROM schedules ORDER BY id")]


def update(
    db: sqlite3.Connection,
    schedule_id: int,
    *,
    name: str | None = None,
    trigger: Trigger | None = None,
    action: Action | None = None,
    enabled: bool | None = None,
) -> Row:
    """Change what is given. A new trigger, or switching `enabled`, restarts `active_since` (no catch-up)."""
    with transaction(db):
        current = get(db, schedule_id)
        stamp = now()
        restart = trigger is not None or (enabled is not None and enabled != current.enabled)
        db.execute(
            "UPDATE schedules SET name = ?, trigger = ?, action = ?, enabled = ?, active_since = ?, "
            "updated_at = ? WHERE id = ?",
            (
                current.name if name is None else name,
                codec.encode(current.trigger if trigger is None else trigger),
                codec.encode(current.action if action is None else action),
                int(current.enabled if enabled is None else enabled),
                stamp if restart else current.active_since,
                stamp,
                schedule_id,
            ),
        )
    return get(db, schedule_id)


def delete(db: sqlite3.Connection, schedule_id: int) -> None:
    with transaction(db):
        if db.execute("DELETE FROM schedules WHERE id = ?", (schedule_id,)).rowcount == 0:
            raise NotFound(f"No schedule with id {schedule_id}.")


def version(db: sqlite3.Connection) -> int:
    """Bumped by every change to `schedules` (SQL triggers): the worker's cheap poll."""
    return int(db.execute("SELECT version FROM schedules_version WHERE id = 1").fetchone()[0])


# -- firings --------------------------------------------------------------------------------------------


def claim(db: sqlite3.Connection, schedule_id: int, due_at: str, *, manual: bool = False) -> bool:
    """Record a firing of (schedule, due time); False when it was recorded before (it must not run again)."""
    try:
        with transaction(db):
            db.execute(
                "INSERT INTO schedule_firings (schedule_id, due_at, fired_at, manual) VALUES (?, ?, ?, ?)",
                (schedule_id, due_at, now(), int(manual)),
            )
    except sqlite3.IntegrityError:
        return False
    return True


def set_operation(db: sqlite3.Connection, schedule_id: int, due_at: str, operation_id: str) -> None:
    with transaction(db):
        db.execute(
            "UPDATE schedule_firings SET operation_id = ? WHERE schedule_id = ? AND due_at = ?",
            (operation_id, schedule_id, due_at),
        )


def last_due(db: sqlite3.Connection, schedule_id: int) -> str | None:
    """The latest due time a scheduled (not run-now) firing answered."""
    r = db.execute(
        "SELECT max(due_at) FROM schedule_firings WHERE schedule_id = ? AND manual = 0", (schedule_id,)
    ).fetchone()
    return r[0]


def last_run(db: sqlite3.Connection, schedule_id: int) -> LastRun | None:
    r = db.execute(
        "SELECT f.fired_at, f.operation_id, o.status FROM schedule_firings f "
        "LEFT JOIN operations o ON o.id = f.operation_id "
        "WHERE f.schedule_id = ? ORDER BY f.fired_at DESC, f.due_at DESC LIMIT 1",
        (schedule_id,),
    ).fetchone()
    return LastRun(at=r[0], operation_id=r[1], status=r[2]) if r is not None else None


def history(
    db: sqlite3.Connection, schedule_id: int, before: str | None = None, limit: int = 50
) -> list[Firing]:
    """Newest first; `before` is a `fired_at` cursor."""
    rows = db.execute(
        "SELECT due_at, fired_at, manual, operation_id FROM schedule_firings "
        "WHERE schedule_id = ? AND fired_at < coalesce(?, '9999') "
        "ORDER BY fired_at DESC, due_at DESC LIMIT ?",
        (schedule_id, before, limit),
    ).fetchall()
    out = []
    for r in rows:
        op = None
        if r["operation_id"] is not None:
            try:
                op = ops_db.get(db, r["operation_id"])
            except NotFound:  # pruned
                op = None
        out.append(Firing(due_at=r["due_at"], fired_at=r["fired_at"], manual=bool(r["manual"]), operation=op))
    return out

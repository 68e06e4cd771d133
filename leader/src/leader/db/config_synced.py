"""What the leader last wrote to each unit, per config file: the sha256 a sync step confirmed (the agent
answers the sha256 of what it stored). Compared with a file's current sha256, it says which units still
have an older version, or none, without asking any unit."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass

from . import now, transaction


def record(db: sqlite3.Connection, op_id: str, written: list[tuple[str, str, str]]) -> None:
    """(unit, file name on the leader, sha256) of steps that succeeded together: one statement per batch."""
    if not written:
        return
    with transaction(db):
        db.execute(
            "INSERT INTO config_synced (unit, name, sha256, synced_at, operation_id) "
            "SELECT value->>0, value->>1, value->>2, ?, ? FROM json_each(?) WHERE true "
            "ON CONFLICT (unit, name) DO UPDATE SET sha256 = excluded.sha256, "
            "synced_at = excluded.synced_at, operation_id = excluded.operation_id",
            (now(), op_id, json.dumps(written)),
        )


def synced(db: sqlite3.Connection, names: list[str]) -> dict[tuple[str, str], str]:
    """(unit, name) → the sha256 last written there, for these files."""
    if not names:
        return {}
    marks = ",".join("?" * len(names))
    rows = db.execute(
        f"SELECT unit, name, sha256 FROM config_synced WHERE name IN ({marks})",  # noqa: S608
        names,
    ).fetchall()
    return {(r[0], r[1]): r[2] for r in rows}


@dataclass(frozen=True)
class Registered:
    name: str
    active: bool


def registered_units(db: sqlite3.Connection) -> list[Registered]:
    """The units a sync may write to (not removed), with no presence lookup: a cheap read per answer."""
    rows = db.execute("SELECT name, active FROM units WHERE removed_at IS NULL ORDER BY name").fetchall()
    return [Registered(r[0], bool(r[1])) for r in rows]

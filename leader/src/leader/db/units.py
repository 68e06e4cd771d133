"""Units of the cluster. Removal is soft (`removed_at`): assignment history keeps its rows."""

from __future__ import annotations

import sqlite3

from cluster_schema.errors import Conflict, NotFound
from cluster_schema.leader import Unit

from ..unit_address import UnitAddress
from . import fleet, now, presence, transaction

_SELECT = "SELECT name, address, port, model, active FROM units"


def _units(db: sqlite3.Connection, rows: list[sqlite3.Row]) -> list[Unit]:
    names = [r["name"] for r in rows]
    seen = presence.presence_for(db, names)  # from the MQTT ingest; `unknown` for a unit never heard from
    status = fleet.status_for(db, names)
    out = []
    for r in rows:
        here = seen[r["name"]]
        versions, checked_at, health = status.get(r["name"], (None, None, None))
        out.append(
            Unit(
                name=r["name"],
                address=r["address"],
                port=r["port"],
                model=r["model"],
                active=bool(r["active"]),
                presence=here.presence,  # type: ignore[arg-type]
                last_seen=here.last_seen,
                versions=versions,
                versions_checked_at=checked_at,
                health=health,
            )
        )
    return out


def list_units(db: sqlite3.Connection) -> list[Unit]:
    rows = db.execute(_SELECT + " WHERE removed_at IS NULL ORDER BY name").fetchall()
    return _units(db, rows)


def get(db: sqlite3.Connection, name: str) -> Unit:
    row = db.execute(_SELECT + " WHERE name = ? AND removed_at IS NULL", (name,)).fetchone()
    if row is None:
        raise NotFound(f"No unit named {name!r}.")
    return _units(db, [row])[0]


def add(db: sqlite3.Connection, name: str, address: str | None, port: int, model: str | None) -> Unit:
    """Add a unit, or bring back a removed one under the same name (its history is still there)."""
    with transaction(db):
        row = db.execute("SELECT removed_at FROM units WHERE name = ?", (name,)).fetchone()
        if row is not None and row["removed_at"] is None:
            raise Conflict(f"A unit named {name!r} already exists.")
        db.execute(
            "INSERT INTO units (name, address, port, model, active, added_at) VALUES (?, ?, ?, ?, 1, ?) "
            "ON CONFLICT(name) DO UPDATE SET address = excluded.address, port = excluded.port, "
            "model = excluded.model, active = 1, added_at = excluded.added_at, removed_at = NULL",
            (name, address or name, port, model, now()),
        )
    return get(db, name)


def update(
    db: sqlite3.Connection,
    name: str,
    *,
    address: str | None = None,
    port: int | None = None,
    model: str | None = None,
    active: bool | None = None,
) -> Unit:
    get(db, name)
    changes = {"address": address, "port": port, "model": model, "active": active}
    sets = {k: v for k, v in changes.items() if v is not None}
    if sets:
        assignments = ", ".join(f"{k} = ?" for k in sets)
        with transaction(db):
            db.execute(f"UPDATE units SET {assignments} WHERE name = ?", (*sets.values(), name))  # noqa: S608
    return get(db, name)


def remove(db: sqlite3.Connection, name: str) -> None:
    """Soft removal: closes the unit's current assignment, keeps every history row."""
    get(db, name)
    stamp = now()
    with transaction(db):
        db.execute(
            "UPDATE assignments SET unassigned_at = ? WHERE unit = ? AND unassigned_at IS NULL", (stamp, name)
        )
        db.execute("UPDATE units SET removed_at = ?, active = 0 WHERE name = ?", (stamp, name))
        # what its config syncs wrote: a unit added back under this name may be another machine
        db.execute("DELETE FROM config_synced WHERE unit = ?", (name,))


def addresses(db: sqlite3.Connection, names: list[str]) -> dict[str, UnitAddress]:
    """Where to reach each named unit that exists (removed units are absent)."""
    if not names:
        return {}
    marks = ",".join("?" * len(names))
    rows = db.execute(
        f"SELECT name, address, port FROM units WHERE removed_at IS NULL AND name IN ({marks})",  # noqa: S608
        names,
    ).fetchall()
    return {r["name"]: UnitAddress(r["name"], r["address"], r["port"]) for r in rows}


def active_names(db: sqlite3.Connection) -> list[str]:
    rows = db.execute("SELECT name FROM units WHERE removed_at IS NULL AND active = 1 ORDER BY name")
    return [r["name"] for r in rows]

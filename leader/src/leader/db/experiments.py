"""Experiments and unit assignments (with history: a reassignment closes the old row, never deletes it)."""

from __future__ import annotations

import sqlite3

from cluster_schema.errors import Conflict, NotFound
from cluster_schema.leader import Assignment, Experiment

from . import now, transaction
from .experiment_data import copy_settings


def _units_of(db: sqlite3.Connection, name: str) -> list[str]:
    rows = db.execute(
        "SELECT unit FROM assignments WHERE experiment = ? AND unassigned_at IS NULL ORDER BY unit", (name,)
    )
    return [r[0] for r in rows]


def labels_of(db: sqlite3.Connection, name: str) -> dict[str, str]:
    """{unit: label} of the units assigned now (a label outlives an assignment: see db/labels.py)."""
    rows = db.execute(
        "SELECT l.unit, l.label FROM unit_labels l JOIN assignments a "
        "ON a.unit = l.unit AND a.experiment = l.experiment AND a.unassigned_at IS NULL "
        "WHERE l.experiment = ? ORDER BY l.unit",
        (name,),
    )
    return {r[0]: r[1] for r in rows}


def _experiment(db: sqlite3.Connection, row: sqlite3.Row) -> Experiment:
    return Experiment(
        name=row["name"],
        description=row["description"],
        created_at=row["created_at"],
        units=_units_of(db, row["name"]),
        labels=labels_of(db, row["name"]),
        archived_at=row["archived_at"],
    )


def list_experiments(db: sqlite3.Connection) -> list[Experiment]:
    rows = db.execute("SELECT * FROM experiments ORDER BY created_at DESC, name").fetchall()
    return [_experiment(db, r) for r in rows]


def exists(db: sqlite3.Connection, name: str) -> bool:
    return db.execute("SELECT 1 FROM experiments WHERE name = ?", (name,)).fetchone() is not None


def get(db: sqlite3.Connection, name: str) -> Experiment:
    row = db.execute("SELECT * FROM experiments WHERE name = ?", (name,)).fetchone()
    if row is None:
        raise NotFound(f"No experiment named {name!r}.")
    return _experiment(db, row)


def create(
    db: sqlite3.Connection, name: str, description: str = "", copy_from: str | None = None
) -> Experiment:
    """`copy_from`: an existing experiment (unknown: 409 naming `$.copy_from`) whose per-experiment
    settings the new one starts with (experiment_data.copy_settings), and its description if none given."""
    with transaction(db):
        found = db.execute("SELECT archived_at FROM experiments WHERE name = ?", (name,)).fetchone()
        if found and found[0]:
            raise Conflict(
                f"The name {name!r} belongs to an archived experiment (its data was kept); choose another "
                "name, or delete that experiment with its data first.",
                code="name_archived",
            )
        if found:
            raise Conflict(f"An experiment named {name!r} already exists.")
        source = None
        if copy_from is not None:
            source = db.execute("SELECT * FROM experiments WHERE name = ?", (copy_from,)).fetchone()
            if source is None:
                raise Conflict(
                    f"No experiment named {copy_from!r} at `$.copy_from`.", code="unknown_experiment"
                )
            description = description or source["description"]
        db.execute(
            "INSERT INTO experiments (name, description, created_at) VALUES (?, ?, ?)",
            (name, description, now()),
        )
        if source is not None:
            copy_settings(db, source["name"], name)
    return get(db, name)


def update(db: sqlite3.Connection, name: str, description: str | None) -> Experiment:
    get(db, name)
    if description is not None:
        with transaction(db):
            db.execute("UPDATE experiments SET description = ? WHERE name = ?", (description, name))
    return get(db, name)


def assign(db: sqlite3.Connection, experiment: str, units: list[str], move: bool = False) -> list[str]:
    """Make `units` exactly the experiment's units; others are unassigned. A unit assigned to another
    experiment moves here only with `move` (else 409 naming each such unit and where it is)."""
    stamp = now()
    with transaction(db):
        if get(db, experiment).archived_at and units:
            raise Conflict(f"Experiment {experiment!r} is archived: no unit can join it.", code="archived")
        known = {
            r[0]
            for r in db.execute(
                f"SELECT name FROM units WHERE removed_at IS NULL AND name IN ({','.join('?' * len(units))})",  # noqa: S608
                units,
            )
        }
        missing = [u for u in units if u not in known]
        if missing:
            # the units named in the body, not the resource of the URL: a conflict with the cluster's state
            raise Conflict(f"Unknown unit(s) at `$.units`: {', '.join(missing)}.", code="unknown_units")
        current = set(_units_of(db, experiment))
        elsewhere = _assigned_elsewhere(db, experiment, units)
        if elsewhere and not move:
            where = ", ".join(f"{u} (in {e!r})" for u, e in elsewhere.items())
            raise Conflict(
                f"Unit(s) at `$.units` assigned to another experiment: {where}; "
                'send `"move": true` to move them here.',
                code="assigned_elsewhere",
            )
        for unit in current - set(units):
            _close(db, unit, stamp)
        for unit in units:
            if unit in current:
                continue
            _close(db, unit, stamp)  # leaves any other experiment first
            db.execute(
                "INSERT INTO assignments (unit, experiment, assigned_at) VALUES (?, ?, ?)",
                (unit, experiment, stamp),
            )
    return _units_of(db, experiment)


def _assigned_elsewhere(db: sqlite3.Connection, experiment: str, units: list[str]) -> dict[str, str]:
    marks = ",".join("?" * len(units))
    rows = db.execute(
        f"SELECT unit, experiment FROM assignments WHERE unassigned_at IS NULL AND experiment != ? "  # noqa: S608
        f"AND unit IN ({marks}) ORDER BY unit",
        (experiment, *units),
    )
    return {r[0]: r[1] for r in rows}


def unassign(db: sqlite3.Connection, experiment: str, unit: str) -> None:
    with transaction(db):
        get(db, experiment)
        if unit not in _units_of(db, experiment):
            raise NotFound(f"Unit {unit!r} is not assigned to experiment {experiment!r}.")
        _close(db, unit, now())


def _close(db: sqlite3.Connection, unit: str, stamp: str) -> None:
    db.execute(
        "UPDATE assignments SET unassigned_at = ? WHERE unit = ? AND unassigned_at IS NULL", (stamp, unit)
    )


def assigned_units(db: sqlite3.Connection, experiment: str) -> list[str]:
    get(db, experiment)
    return _units_of(db, experiment)


def history(
    db: sqlite3.Connection, *, unit: str | None = None, experiment: str | None = None
) -> list[Assignment]:
    where, args = [], []
    if unit:
        where.append("unit = ?")
        args.append(unit)
    if experiment:
        where.append("experiment = ?")
        args.append(experiment)
    clause = ("WHERE " + " AND ".join(where)) if where else ""
    rows = db.execute(f"SELECT * FROM assignments {clause} ORDER BY id", args).fetchall()  # noqa: S608
    return [
        Assignment(
            unit=r["unit"],
            experiment=r["experiment"],
            assigned_at=r["assigned_at"],
            unassigned_at=r["unassigned_at"],
        )
        for r in rows
    ]

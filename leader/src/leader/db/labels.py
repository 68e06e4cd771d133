"""Unit labels per experiment (`unit_labels`): set, clear, and the labels of the units assigned now."""

from __future__ import annotations

import sqlite3

from cluster_schema.errors import Conflict

from . import experiments as exp_db
from . import now, transaction


def current(db: sqlite3.Connection, experiment: str) -> dict[str, str]:
    """{unit: label} of the units assigned to the experiment now (a label outlives an assignment)."""
    return exp_db.labels_of(db, experiment)


def put(db: sqlite3.Connection, experiment: str, unit: str, label: str) -> dict[str, str]:
    """Label an assigned unit (an empty label removes it); answers the experiment's labels."""
    with transaction(db):
        if unit not in exp_db.assigned_units(db, experiment):  # 404 for an unknown experiment first
            raise Conflict(f"Unit {unit!r} is not assigned to experiment {experiment!r}.")
        if not label:
            db.execute("DELETE FROM unit_labels WHERE experiment = ? AND unit = ?", (experiment, unit))
            return current(db, experiment)
        holder = db.execute(
            "SELECT unit FROM unit_labels WHERE experiment = ? AND label = ? AND unit != ?",
            (experiment, label, unit),
        ).fetchone()
        if holder is not None:
            raise Conflict(
                f"Label {label!r} at `$.label` is taken by unit {holder[0]!r} in experiment {experiment!r}."
            )
        db.execute(
            "INSERT INTO unit_labels (experiment, unit, label, updated_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (experiment, unit) DO UPDATE SET label = excluded.label, "
            "updated_at = excluded.updated_at",
            (experiment, unit, label, now()),
        )
    return current(db, experiment)


def every(db: sqlite3.Connection, experiment: str) -> dict[str, str]:
    """{unit: label} of every unit labelled in the experiment, assigned now or not (an ended or archived
    experiment's readings keep the names people gave their vials)."""
    rows = db.execute("SELECT unit, label FROM unit_labels WHERE experiment = ? ORDER BY unit", (experiment,))
    return {r[0]: r[1] for r in rows}

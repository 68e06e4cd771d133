"""What the store keeps keyed by one experiment: copying its settings to a new experiment,
archiving it (the name stays reserved) and restoring it, or deleting it together with everything keyed by
its name.

Deleting purges in batches with a commit between them, so the MQTT ingest (the other writer) waits at
most one batch, never for the whole of a long experiment's readings.
"""

from __future__ import annotations

import sqlite3

from cluster_schema.errors import Conflict, NotFound

from . import now, transaction

BATCH = 5000

# tables with an `experiment` column whose rows belong to it (readings: per series, see _purge_readings)
_KEYED = (
    "logs",
    "dosing_events",
    "job_states",
    "job_state_transitions",
    "job_settings",
    "topic_values",
    "changes",
    "alert_rules",
    "unit_labels",
)


def _operations(db: sqlite3.Connection, name: str) -> list[str]:
    rows = db.execute("SELECT id FROM operations WHERE json_extract(params, '$.experiment') = ?", (name,))
    return [r[0] for r in rows]


def _schedules(db: sqlite3.Connection, name: str) -> list[int]:
    rows = db.execute("SELECT id FROM schedules WHERE json_extract(action, '$.experiment') = ?", (name,))
    return [r[0] for r in rows]


def copy_settings(db: sqlite3.Connection, source: str, target: str) -> None:
    """Unit labels and alert rules of `source` become `target`'s (inside the caller's transaction)."""
    stamp = now()
    db.execute(
        "INSERT INTO unit_labels (experiment, unit, label, updated_at) "
        "SELECT ?, unit, label, ? FROM unit_labels WHERE experiment = ?",
        (target, stamp, source),
    )
    db.execute(
        "INSERT INTO alert_rules (experiment, series, op, value, hold_seconds, enabled, created_at) "
        "SELECT ?, series, op, value, hold_seconds, enabled, ? FROM alert_rules WHERE experiment = ?",
        (target, stamp, source),
    )


def _idle(db: sqlite3.Connection, name: str) -> None:
    if db.execute("SELECT 1 FROM experiments WHERE name = ?", (name,)).fetchone() is None:
        raise NotFound(f"No experiment named {name!r}.")
    rows = db.execute(
        "SELECT unit FROM assignments WHERE experiment = ? AND unassigned_at IS NULL ORDER BY unit", (name,)
    )
    current = [r[0] for r in rows]
    if current:
        raise Conflict(
            f"Experiment {name!r} still has units assigned ({', '.join(current)}); end it first.",
            code="units_assigned",
        )


def archive(db: sqlite3.Connection, name: str) -> None:
    """Keep everything; the name stays taken. Archiving an archived experiment changes nothing."""
    with transaction(db):
        _idle(db, name)
        db.execute(
            "UPDATE experiments SET archived_at = coalesce(archived_at, ?) WHERE name = ?", (now(), name)
        )


def restore(db: sqlite3.Connection, name: str) -> None:
    """An archived experiment becomes live again: units can join it, as before it was archived. Not one
    whose data is being deleted (`purging_at`): its rows are already going, batch by batch."""
    with transaction(db):
        row = db.execute("SELECT archived_at, purging_at FROM experiments WHERE name = ?", (name,)).fetchone()
        if row is None:
            raise NotFound(f"No experiment named {name!r}.")
        if row["purging_at"]:
            raise Conflict(
                f"Experiment {name!r} is being deleted with its data (since {row['purging_at']}): it cannot "
                "be restored. If that deletion was interrupted, delete it again to finish.",
                code="being_deleted",
            )
        if row["archived_at"] is None:
            raise Conflict(f"Experiment {name!r} is not archived: nothing to restore.", code="not_archived")
        db.execute("UPDATE experiments SET archived_at = NULL WHERE name = ?", (name,))


def purge(db: sqlite3.Connection, name: str) -> dict[str, int]:
    """Delete the experiment and every row keyed by its name: readings, logs, job states and settings,
    labels, alert rules, its operations and the schedules acting on it. Answers what went, by table."""
    with transaction(db):
        _idle(db, name)
        # the name first leaves the list (archived) so nothing is assigned while the batches run, and is
        # marked as going so it cannot be restored half-deleted
        stamp = now()
        db.execute(
            "UPDATE experiments SET archived_at = coalesce(archived_at, ?), "
            "purging_at = coalesce(purging_at, ?) WHERE name = ?",
            (stamp, stamp, name),
        )
    gone = {"readings": _purge_readings(db, name)}
    for table in _KEYED:  # job_settings before changes: deleting a setting appends a change
        gone[table] = _delete_keyed(db, table, name)
    with transaction(db):
        ops = _operations(db, name)
        db.executemany("DELETE FROM operations WHERE id = ?", [(o,) for o in ops])
        schedules = _schedules(db, name)
        db.executemany("DELETE FROM schedules WHERE id = ?", [(s,) for s in schedules])
        db.execute("DELETE FROM assignments WHERE experiment = ?", (name,))
        db.execute("DELETE FROM experiments WHERE name = ?", (name,))
    gone["operations"], gone["schedules"] = len(ops), len(schedules)
    return gone


def _key(db: sqlite3.Connection, table: str) -> str:
    """The columns that find one row: `rowid`, or a WITHOUT ROWID table's primary key."""
    sql = db.execute("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)).fetchone()
    if "WITHOUT ROWID" not in sql[0].upper():
        return "rowid"
    keys = [r[1] for r in sorted(db.execute(f"PRAGMA table_info({table})"), key=lambda r: r[5]) if r[5]]
    return "(" + ", ".join(keys) + ")"


def _batched(db: sqlite3.Connection, sql: str, *args: object) -> int:
    """Run a `... LIMIT ?` delete until a batch comes back short; one transaction per batch."""
    total = 0
    while True:
        with transaction(db):
            n = db.execute(sql, (*args, BATCH)).rowcount
        total += n
        if n < BATCH:
            return total


def _delete_keyed(db: sqlite3.Connection, table: str, name: str) -> int:
    key = _key(db, table)
    cols = key.strip("()")
    # table and column names come from _KEYED and the schema itself, never from a request
    sql = f"DELETE FROM {table} WHERE {key} IN (SELECT {cols} FROM {table} WHERE experiment = ? LIMIT ?)"  # noqa: S608
    return _batched(db, sql, name)


def _purge_readings(db: sqlite3.Connection, name: str) -> int:
    """Readings are clustered on (series, experiment, unit, ts): one range per series, found from the
    per-minute rollups (60 times fewer rows)."""
    rows = db.execute("SELECT DISTINCT series FROM readings_minutes WHERE experiment = ?", (name,))
    total = 0
    for (series,) in rows.fetchall():
        total += _batched(
            db,
            "DELETE FROM readings WHERE series = ? AND experiment = ? AND ts IN "
            "(SELECT ts FROM readings WHERE series = ? AND experiment = ? LIMIT ?)",
            series,
            name,
            series,
            name,
        )
    _batched(
        db,
        "DELETE FROM readings_minutes WHERE (series, experiment, unit, minute) IN "
        "(SELECT series, experiment, unit, minute FROM readings_minutes WHERE experiment = ? LIMIT ?)",
        name,
    )
    return total

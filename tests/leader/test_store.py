"""The store: WAL + busy timeout + foreign keys, ordered migrations applied once, history kept."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from cluster_schema.errors import Conflict
from leader.db import connect, migrate, transaction
from leader.db import units as units_db


def test_connection_pragmas(tmp_path: Path) -> None:
    db = connect(str(tmp_path / "s.sqlite"))
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert db.execute("PRAGMA busy_timeout").fetchone()[0] >= 5000


def test_migrations_apply_in_order_once(tmp_path: Path) -> None:
    path = str(tmp_path / "s.sqlite")
    numbers = [n for n, _, _ in migrate.migrations()]
    assert numbers == sorted(numbers) and numbers[0] == 1
    applied = migrate.init_db(path)
    assert applied[0] == "0001_core.sql"
    assert migrate.init_db(path) == []  # idempotent
    db = connect(path)
    assert migrate.version(db) == numbers[-1]


def test_transaction_rolls_back(tmp_path: Path) -> None:
    path = str(tmp_path / "s.sqlite")
    migrate.init_db(path)
    db = connect(path)
    with pytest.raises(RuntimeError), transaction(db):
        db.execute("INSERT INTO settings (key, value, updated_at) VALUES ('a', '1', 'now')")
        raise RuntimeError("boom")
    assert db.execute("SELECT count(*) FROM settings").fetchone()[0] == 0


def test_foreign_keys_protect_history(tmp_path: Path) -> None:
    path = str(tmp_path / "s.sqlite")
    migrate.init_db(path)
    db = connect(path)
    units_db.add(db, "pio1", None, 4999, None)
    db.execute("INSERT INTO experiments (name, created_at) VALUES ('e', 'now')")
    db.execute("INSERT INTO assignments (unit, experiment, assigned_at) VALUES ('pio1', 'e', 'now')")
    with pytest.raises(sqlite3.IntegrityError):
        db.execute("DELETE FROM experiments WHERE name = 'e'")
    with pytest.raises(sqlite3.IntegrityError):  # one current assignment per unit
        db.execute("INSERT INTO assignments (unit, experiment, assigned_at) VALUES ('pio1', 'e', 'now')")
    units_db.remove(db, "pio1")
    rows = db.execute("SELECT unassigned_at FROM assignments WHERE unit = 'pio1'").fetchall()
    assert len(rows) == 1 and rows[0][0] is not None  # closed, not deleted
    units_db.add(db, "pio1", "10.0.0.5", 4999, None)  # a removed unit can come back
    assert units_db.get(db, "pio1").address == "10.0.0.5"
    with pytest.raises(Conflict):
        units_db.add(db, "pio1", None, 4999, None)

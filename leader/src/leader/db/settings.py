"""Leader-wide settings: JSON values by key."""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from . import now, transaction


def get(db: sqlite3.Connection, key: str, default: Any = None) -> Any:
    row = db.execute("SELECT value FROM settings WHERE key = ?", (key,)).fetchone()
    return default if row is None else json.loads(row[0])


def put(db: sqlite3.Connection, key: str, value: Any) -> None:
    with transaction(db):
        db.execute(
            "INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?) "
            "ON CONFLICT(key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
            (key, json.dumps(value), now()),
        )


def all_settings(db: sqlite3.Connection) -> dict[str, Any]:
    return {r[0]: json.loads(r[1]) for r in db.execute("SELECT key, value FROM settings ORDER BY key")}

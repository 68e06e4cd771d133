"""Numbers the worker process keeps for /metrics (ingest counters, schedule firings), read by any web
process at scrape time: the store is what every process shares, so no metric depends on which process
answers the scrape."""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Mapping

from . import transaction


def _labels(labels: Mapping[str, str] | None) -> str:
    return json.dumps(dict(sorted(labels.items()))) if labels else ""


def add(db: sqlite3.Connection, name: str, amount: float, labels: Mapping[str, str] | None = None) -> None:
    with transaction(db):
        db.execute(
            "INSERT INTO metric_values (name, labels, value, updated_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (name, labels) DO UPDATE SET value = value + excluded.value, "
            "updated_at = excluded.updated_at",
            (name, _labels(labels), amount, time.time()),
        )


def put_many(db: sqlite3.Connection, values: Mapping[str, float]) -> None:
    """Set unlabelled values (a snapshot, e.g. the ingest's counters since the worker started)."""
    stamp = time.time()
    with transaction(db):
        db.executemany(
            "INSERT INTO metric_values (name, labels, value, updated_at) VALUES (?, '', ?, ?) "
            "ON CONFLICT (name, labels) DO UPDATE SET value = excluded.value, "
            "updated_at = excluded.updated_at",
            [(name, float(value), stamp) for name, value in values.items()],
        )


def read_all(db: sqlite3.Connection) -> list[tuple[str, dict[str, str], float, float]]:
    """(name, labels, value, updated_at) of every stored number."""
    return [
        (r[0], json.loads(r[1]) if r[1] else {}, r[2], r[3])
        for r in db.execute("SELECT name, labels, value, updated_at FROM metric_values ORDER BY name, labels")
    ]

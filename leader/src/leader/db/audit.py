"""The audit trail: who did what, when, from where. Newest first, one keyset page at a time; pruned with
the logs' retention (RETENTION_DAYS, by the ingest's hourly pruning)."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime
from typing import Any

from cluster_schema.people import AuditEntry, AuditPage

from . import now, transaction

MAX_LIMIT = 500
PRUNE_CHUNK = 5000


def record(
    db: sqlite3.Connection,
    actor: str,
    action: str,
    target: str | None = None,
    detail: dict[str, Any] | None = None,
    address: str | None = None,
) -> None:
    with transaction(db):
        db.execute(
            "INSERT INTO audit (at, actor, action, target, address, detail) VALUES (?, ?, ?, ?, ?, ?)",
            (now(), actor, action, target, address, json.dumps(detail or {})),
        )


def page(
    db: sqlite3.Connection,
    *,
    before: int | None = None,
    limit: int = 100,
    action: str | None = None,
    actor: str | None = None,
) -> AuditPage:
    where, args = [], []
    for clause, value in (("id < ?", before), ("action = ?", action), ("actor = ?", actor)):
        if value is not None:
            where.append(clause)
            args.append(value)
    clause = ("WHERE " + " AND ".join(where)) if where else ""
    rows = db.execute(
        f"SELECT * FROM audit {clause} ORDER BY id DESC LIMIT ?",  # noqa: S608 (fixed clauses, values bound)
        (*args, limit + 1),
    ).fetchall()
    entries = [
        AuditEntry(
            id=r["id"],
            at=r["at"],
            actor=r["actor"],
            action=r["action"],
            target=r["target"],
            address=r["address"],
            detail=json.loads(r["detail"]),
        )
        for r in rows[:limit]
    ]
    return AuditPage(entries=entries, next=entries[-1].id if len(rows) > limit else None)


def prune(conn: sqlite3.Connection, older_than: float, limit: int = PRUNE_CHUNK) -> int:
    """Delete up to `limit` entries older than `older_than` (epoch seconds); answers how many."""
    cutoff = datetime.fromtimestamp(older_than, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    return conn.execute(
        "DELETE FROM audit WHERE id IN (SELECT id FROM audit WHERE at < ? LIMIT ?)", (cutoff, limit)
    ).rowcount

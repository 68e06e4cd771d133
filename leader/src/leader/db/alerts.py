"""Recorded alerts and their deliveries (see leader.alerts for who fires, resolves and delivers them).

An alert is open while `resolved_at` is NULL; a partial unique index keeps one open alert per key, so
firing an already open condition is a no-op. Firing and resolving queue one delivery per configured channel
in the same transaction (at-least-once: the delivery thread retries from the store, even after a restart).
"""

from __future__ import annotations

import json
import sqlite3
import time
from typing import Any
from urllib.parse import urlsplit

from cluster_schema.alerts import Alert, AlertDelivery, AlertEvent, DeliveryAttempt

from . import now, transaction

Target = tuple[str, str]  # (channel, target): ("webhook", url) | ("email", "a@x, b@y")
_OPEN = "SELECT id FROM alerts WHERE key = ? AND resolved_at IS NULL"


def _queue(db: sqlite3.Connection, alert_id: int, event: str, targets: list[Target]) -> None:
    db.executemany(
        "INSERT INTO alert_deliveries (alert_id, event, channel, target, status, next_attempt_at, "
        "created_at) VALUES (?, ?, ?, ?, 'pending', ?, ?)",
        [(alert_id, event, channel, target, time.time(), now()) for channel, target in targets],
    )


def fire(
    db: sqlite3.Connection,
    key: str,
    kind: str,
    severity: str,
    summary: str,
    details: dict[str, Any],
    targets: list[Target],
    *,
    event: bool = False,
) -> int | None:
    """Open an alert for `key` unless one is open; answer its id when new. `event=True`: a one-off (an
    operation that failed) recorded once per key ever and resolved at once."""
    with transaction(db):
        seen = "SELECT id FROM alerts WHERE key = ?" if event else _OPEN
        if db.execute(seen, (key,)).fetchone() is not None:
            return None
        stamp = now()
        cur = db.execute(
            "INSERT INTO alerts (key, kind, severity, summary, details, fired_at, resolved_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (key, kind, severity, summary, json.dumps(details), stamp, stamp if event else None),
        )
        alert_id = int(cur.lastrowid or 0)
        _queue(db, alert_id, "test" if kind == "test" else "fired", targets)
    return alert_id


def resolve(db: sqlite3.Connection, key: str, targets: list[Target]) -> int | None:
    """Close the open alert of `key`, if any, and queue its `resolved` deliveries."""
    with transaction(db):
        row = db.execute(_OPEN, (key,)).fetchone()
        if row is None:
            return None
        db.execute("UPDATE alerts SET resolved_at = ? WHERE id = ?", (now(), row[0]))
        _queue(db, row[0], "resolved", targets)
    return int(row[0])


def open_count(db: sqlite3.Connection) -> int:
    """How many alerts are open: a count of the partial index alerts_open (every page's navigation asks)."""
    return int(db.execute("SELECT count(*) FROM alerts WHERE resolved_at IS NULL").fetchone()[0])


def event(db: sqlite3.Connection, alert_id: int, state: str, open_now: int) -> AlertEvent | None:
    """The `alert` event of GET /api/events: the alert as answered now, with what happened and the count."""
    found = get(db, alert_id)
    if found is None:
        return None
    fields = {f: getattr(found, f) for f in found.__struct_fields__}
    return AlertEvent(**fields, state="open" if state == "open" else "resolved", open_count=open_now)


def open_keys(db: sqlite3.Connection) -> set[str]:
    return {r[0] for r in db.execute("SELECT key FROM alerts WHERE resolved_at IS NULL")}


def _iso(ts: float | None) -> str | None:
    if ts is None:
        return None
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ts)) + f".{int(ts % 1 * 1000):03d}Z"


def shown_target(channel: str, target: str) -> str:
    """A webhook URL as answers show it: scheme and host only (Slack-like URLs carry their secret in the
    path or query, and viewers read alerts)."""
    if channel != "webhook":
        return target
    try:
        parts = urlsplit(target)
    except ValueError:  # stored before the channels' check refused such URLs (`http://[x`)
        return "webhook (invalid URL)"
    host = parts.netloc.rpartition("@")[2]
    rest = "/…" if parts.path.strip("/") or parts.query else "/"
    return f"{parts.scheme}://{host}{rest}"


def _deliveries(db: sqlite3.Connection, alert_ids: list[int]) -> dict[int, list[AlertDelivery]]:
    out: dict[int, list[AlertDelivery]] = {i: [] for i in alert_ids}
    if not alert_ids:
        return out
    marks = ",".join("?" * len(alert_ids))
    rows = db.execute(
        "SELECT id, alert_id, event, channel, target, status, next_attempt_at FROM alert_deliveries "  # noqa: S608
        f"WHERE alert_id IN ({marks}) ORDER BY id",
        alert_ids,
    ).fetchall()
    by_id: dict[int, AlertDelivery] = {}
    for r in rows:
        d = AlertDelivery(
            id=r[0],
            event=r[2],
            channel=r[3],
            target=shown_target(r[3], r[4]),
            status=r[5],
            next_attempt_at=_iso(r[6]) if r[5] in ("pending", "sending") else None,
        )
        by_id[r[0]] = d
        out[r[1]].append(d)
    if by_id:
        marks = ",".join("?" * len(by_id))
        for a in db.execute(
            "SELECT delivery_id, at, ok, status_code, reason, duration_ms FROM alert_delivery_attempts "  # noqa: S608
            f"WHERE delivery_id IN ({marks}) ORDER BY id",
            list(by_id),
        ):
            by_id[a[0]].attempts.append(
                DeliveryAttempt(at=a[1], ok=bool(a[2]), status_code=a[3], reason=a[4], duration_ms=a[5])
            )
    return out


def _alert(row: sqlite3.Row, deliveries: list[AlertDelivery]) -> Alert:
    return Alert(
        id=row["id"],
        key=row["key"],
        kind=row["kind"],
        severity=row["severity"],
        summary=row["summary"],
        details=json.loads(row["details"]),
        fired_at=row["fired_at"],
        resolved_at=row["resolved_at"],
        deliveries=deliveries,
    )


def list_alerts(
    db: sqlite3.Connection, state: str = "all", kind: str | None = None, limit: int = 100
) -> list[Alert]:
    """Newest first; `state` open | resolved | all."""
    where, args = [], []
    if state == "open":
        where.append("resolved_at IS NULL")
    elif state == "resolved":
        where.append("resolved_at IS NOT NULL")
    if kind:
        where.append("kind = ?")
        args.append(kind)
    sql = "SELECT * FROM alerts" + (" WHERE " + " AND ".join(where) if where else "")  # noqa: S608
    rows = db.execute(sql + " ORDER BY id DESC LIMIT ?", (*args, limit)).fetchall()
    found = _deliveries(db, [r["id"] for r in rows])
    return [_alert(r, found[r["id"]]) for r in rows]


def get(db: sqlite3.Connection, alert_id: int) -> Alert | None:
    row = db.execute("SELECT * FROM alerts WHERE id = ?", (alert_id,)).fetchone()
    return None if row is None else _alert(row, _deliveries(db, [alert_id])[alert_id])


# -- deliveries -----------------------------------------------------------------------------------------
Due = tuple[int, int, str, str, str, int]  # (delivery id, alert id, event, channel, target, tries so far)


def claim_due(db: sqlite3.Connection, limit: int = 20, alert_id: int | None = None) -> list[Due]:
    """Pending deliveries whose time has come (of one alert, or any), marked `sending` so no other
    thread takes them. At most one in flight per target: a hanging webhook holds one sender, never all,
    and a target gets its events in order (fired before resolved)."""
    with transaction(db):
        rows = db.execute(
            "SELECT d.id, d.alert_id, d.event, d.channel, d.target, d.tries FROM alert_deliveries d "
            "WHERE d.status = 'pending' AND d.next_attempt_at <= ? AND (? IS NULL OR d.alert_id = ?) "
            "AND NOT EXISTS "
            "(SELECT 1 FROM alert_deliveries s WHERE s.status = 'sending' AND s.target = d.target) "
            "ORDER BY d.next_attempt_at, d.id",
            (time.time(), alert_id, alert_id),
        ).fetchall()
        due: dict[str, Due] = {}
        for r in rows:
            if len(due) >= limit:
                break
            due.setdefault(r[4], tuple(r))
        db.executemany(
            "UPDATE alert_deliveries SET status = 'sending' WHERE id = ?", [(d[0],) for d in due.values()]
        )
    return list(due.values())


def next_due(db: sqlite3.Connection) -> float | None:
    row = db.execute("SELECT min(next_attempt_at) FROM alert_deliveries WHERE status = 'pending'").fetchone()
    return row[0] if row else None


def record_attempt(
    db: sqlite3.Connection,
    delivery_id: int,
    ok: bool,
    status_code: int | None,
    reason: str,
    duration_ms: int,
    retry_at: float | None,
) -> None:
    """Record one attempt; `retry_at` None after a failure means: out of attempts, failed for good."""
    status = "delivered" if ok else "pending" if retry_at is not None else "failed"
    with transaction(db):
        db.execute(
            "INSERT INTO alert_delivery_attempts (delivery_id, at, ok, status_code, reason, duration_ms) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (delivery_id, now(), int(ok), status_code, reason[:500], duration_ms),
        )
        db.execute(
            "UPDATE alert_deliveries SET status = ?, tries = tries + 1, next_attempt_at = ? WHERE id = ?",
            (status, retry_at, delivery_id),
        )


def requeue_sending(db: sqlite3.Connection) -> int:
    """At start: deliveries a stopped worker was sending are sent again (at-least-once)."""
    with transaction(db):
        cur = db.execute(
            "UPDATE alert_deliveries SET status = 'pending', next_attempt_at = ? WHERE status = 'sending'",
            (time.time(),),
        )
    return cur.rowcount

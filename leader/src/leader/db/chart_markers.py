"""What the experiment page's charts mark: job starts and stops (`job_state_transitions`), pump runs
(`dosing_events`, migration 0190) and the actions experiment profiles took (operations requested by
`profile:<id>`), over one experiment's time range.

A job start is its first `init` (or a `ready` without one); a stop is `disconnected` or `lost`. Pauses and
resumes are not marked: they would crowd the charts without saying much.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import msgspec

from cluster_schema.charts import ChartMarker, MarkerKind

LIMIT = 2000  # per kind: the newest in range; a chart's width has room for far fewer
_INSERT_DOSING = (
    "INSERT OR IGNORE INTO dosing_events (experiment, ts, unit, event, volume_change, source) "
    "SELECT value->>0, value->>1, value->>2, value->>3, value->>4, value->>5 FROM json_each(?)"
)
_encode = msgspec.json.Encoder().encode


def insert_dosing(conn: sqlite3.Connection, rows: Sequence[tuple[Any, ...]]) -> None:
    """Rows (experiment, ts, unit, event, volume_change, source); a redelivered event is skipped."""
    conn.execute(_INSERT_DOSING, (_encode(rows),))


def _iso(ts: float) -> str:
    ts = min(max(ts, 0.0), 253402300799.0)  # operations' ISO text sorts right only within years 1970-9999
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ts)) + f".{int(ts % 1 * 1000):03d}Z"


def dosing_text(event: str, volume: float) -> str:
    return f"{event.replace('_', ' ')} {volume:g} mL"


def markers(
    conn: sqlite3.Connection, experiment: str, since: float, until: float, limit: int = LIMIT
) -> tuple[list[ChartMarker], bool]:
    """The markers in [since, until], oldest first, and whether some kind had more than `limit`."""
    out: list[ChartMarker] = []
    truncated = False
    jobs = conn.execute(
        "SELECT at, unit, job, to_state FROM job_state_transitions WHERE experiment = ? AND at >= ? "
        "AND at <= ? AND (to_state IN ('init', 'disconnected', 'lost') OR (to_state = 'ready' AND "
        "(from_state IS NULL OR from_state IN ('disconnected', 'lost')))) ORDER BY at DESC LIMIT ?",
        (experiment, since, until, limit + 1),
    ).fetchall()
    for at, unit, job, state in jobs[:limit]:
        started = state in ("init", "ready")
        kind: MarkerKind = "job_start" if started else "job_stop"
        verb = "started" if started else ("lost" if state == "lost" else "stopped")
        out.append(ChartMarker(t=at, kind=kind, unit=unit, text=f"{job} {verb}"))
    doses = conn.execute(
        "SELECT ts, unit, event, volume_change FROM dosing_events WHERE experiment = ? AND ts >= ? "
        "AND ts <= ? ORDER BY ts DESC LIMIT ?",
        (experiment, since, until, limit + 1),
    ).fetchall()
    for ts, unit, event, volume in doses[:limit]:
        out.append(ChartMarker(t=ts, kind="dosing", unit=unit, text=dosing_text(event, volume)))
    actions = conn.execute(
        "SELECT created_at, kind, targets FROM operations WHERE requested_by LIKE 'profile:%' "
        "AND params->>'experiment' = ? AND created_at >= ? AND created_at <= ? "
        "ORDER BY created_at DESC LIMIT ?",
        (experiment, _iso(since), _iso(until), limit + 1),
    ).fetchall()
    for created, kind, targets in actions[:limit]:
        units = msgspec.json.decode(targets) if targets else []
        t = _epoch(created)
        unit = units[0] if len(units) == 1 else None
        out.append(ChartMarker(t=t, kind="profile", unit=unit, text=f"profile: {kind}"))
    truncated = any(len(rows) > limit for rows in (jobs, doses, actions))
    out.sort(key=lambda m: m.t)
    return out, truncated


def _epoch(iso: str) -> float:
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()

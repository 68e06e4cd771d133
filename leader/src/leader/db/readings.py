"""Time-series readings per (series, experiment, unit): insert, server-side buckets, export, pruning.

The table is clustered on (series, experiment, unit, ts), so one unit's range is one contiguous scan and
SQLite's GROUP BY reduces it to the requested number of points (average, min and max per bucket). When
buckets are a minute wide or wider they are built from the per-minute rollups a trigger keeps
(`readings_minutes`, migration 0051: count, sum, min, max): buckets are then whole minutes aligned on
minute starts, so each bucket's average, minimum and maximum are exactly those of its raw readings, read
from 60 times fewer rows (12 h of a 5 s series: 720 rows per unit instead of 8,640).
"""

from __future__ import annotations

import math
import sqlite3
from collections.abc import Iterator, Sequence
from typing import Any

import msgspec

COLUMNS = ["t", "avg", "min", "max"]
MAX_POINTS = 10_000
ROLLUP_WIDTH = 60.0  # seconds per bucket from which the minute rollups are used: a bucket >= a minute
PRUNE_CHUNK = 10_000

# One statement per batch (see leader.db.logs: the GIL is released once, not per row).
_INSERT = (
    "INSERT OR IGNORE INTO readings (series, experiment, unit, ts, value) "
    "SELECT value->>0, value->>1, value->>2, value->>3, value->>4 FROM json_each(?)"
)
_encode = msgspec.json.Encoder().encode


def insert_many(conn: sqlite3.Connection, rows: Sequence[tuple[Any, ...]]) -> None:
    """Rows (series, experiment, unit, ts, value); a reading already stored (same ts) is skipped."""
    conn.execute(_INSERT, (_encode(rows),))


def units(conn: sqlite3.Connection, series: str, experiment: str) -> list[str]:
    """Units with readings of this series: a skip scan over the key, one index probe per unit."""
    found: list[str] = []
    last = ""
    while True:
        row = conn.execute(
            "SELECT unit FROM readings WHERE series = ? AND experiment = ? AND unit > ? "
            "ORDER BY unit LIMIT 1",
            (series, experiment, last),
        ).fetchone()
        if row is None:
            return found
        last = row[0]
        found.append(last)


def buckets(
    conn: sqlite3.Connection,
    series: str,
    experiment: str,
    unit: str,
    since: float,
    until: float,
    points: int,
) -> list[list[float | None]]:
    """At most `points` rows [t, avg, min, max] covering [since, until]; raw readings when they fit.

    `t` is a bucket's start (epoch seconds) or, for raw readings, the reading's own time.
    """
    width = (until - since) / points
    if width >= ROLLUP_WIDTH:
        return minute_buckets(conn, series, experiment, unit, since, until, points)
    key = (series, experiment, unit, since, until)
    where = "series = ? AND experiment = ? AND unit = ? AND ts >= ? AND ts <= ?"
    (count,) = conn.execute(f"SELECT count(*) FROM readings WHERE {where}", key).fetchone()  # noqa: S608
    if count <= points:
        rows = conn.execute(f"SELECT ts, value FROM readings WHERE {where} ORDER BY ts", key)  # noqa: S608
        return [[ts, v, v, v] for ts, v in rows]
    rows = conn.execute(
        "SELECT min(CAST((ts - ?) / ? AS INTEGER), ?) AS b, avg(value), min(value), max(value) "  # noqa: S608
        f"FROM readings WHERE {where} GROUP BY b ORDER BY b",
        (since, width, points - 1, *key),
    )
    return [[since + b * width, avg, lo, hi] for b, avg, lo, hi in rows]


# Whole minutes inside the window from the rollups, the two partial minutes at its ends from the readings
# themselves (a few rows each), so a bucket holds exactly the readings in [since, until] it covers.
_MINUTES = """
SELECT min((minute - :first) / :per, :last_bucket) AS b, sum(total) / sum(n), min(lo), max(hi) FROM (
    SELECT minute, n, total, lo, hi FROM readings_minutes
    WHERE series = :series AND experiment = :exp AND unit = :unit AND minute > :first AND minute < :last
    UNION ALL
    SELECT :first, 1, value, value, value FROM readings
    WHERE series = :series AND experiment = :exp AND unit = :unit AND ts >= :since AND ts < :first_end
    UNION ALL
    SELECT :last, 1, value, value, value FROM readings
    WHERE series = :series AND experiment = :exp AND unit = :unit AND ts >= :last_start AND ts <= :until
) GROUP BY b ORDER BY b
"""


def minute_buckets(
    conn: sqlite3.Connection,
    series: str,
    experiment: str,
    unit: str,
    since: float,
    until: float,
    points: int,
) -> list[list[float | None]]:
    """Buckets of whole minutes, `ceil(width / 60)` minutes each from the minute `since` falls in (the
    last takes any remainder, so never more than `points`); the first starts at `since`. Exact: every
    reading in [since, until] counted once, in the bucket its minute lies in. Needs until - since >= 60 s."""
    first, last = math.floor(since / 60), math.floor(until / 60)
    per = max(1, math.ceil((until - since) / points / 60))  # minutes per bucket
    rows = conn.execute(
        _MINUTES,
        {
            "series": series,
            "exp": experiment,
            "unit": unit,
            "first": first,
            "last": last,
            "per": per,
            "last_bucket": points - 1,
            "since": since,
            "until": until,
            "first_end": (first + 1) * 60,
            "last_start": last * 60,
        },
    )
    return [[max(since, (first + b * per) * 60.0), avg, lo, hi] for b, avg, lo, hi in rows]


def rows_for_export(
    conn: sqlite3.Connection,
    series: str,
    experiment: str,
    since: float | None = None,
    until: float | None = None,
) -> Iterator[tuple[Any, ...]]:
    """(unit, epoch seconds, value), per unit oldest first, in [since, until)."""
    yield from conn.execute(
        "SELECT unit, ts, value FROM readings WHERE series = ? AND experiment = ? AND ts >= ? AND ts < ? "
        "ORDER BY unit, ts",
        (series, experiment, -1.0 if since is None else since, 1e18 if until is None else until),
    )


def prune(conn: sqlite3.Connection, older_than: float, limit: int = PRUNE_CHUNK) -> int:
    """Delete up to `limit` readings older than `older_than` (epoch seconds), and their whole minutes'
    rollups; answers how many readings. Never those of an experiment with units still assigned."""
    conn.execute(
        "DELETE FROM readings_minutes WHERE (series, experiment, unit, minute) IN "
        "(SELECT series, experiment, unit, minute FROM readings_minutes WHERE minute < ? "
        "AND experiment NOT IN (SELECT experiment FROM assignments WHERE unassigned_at IS NULL) LIMIT ?)",
        (math.floor(older_than / 60), limit),
    )
    return conn.execute(
        "DELETE FROM readings WHERE (series, experiment, unit, ts) IN "
        "(SELECT series, experiment, unit, ts FROM readings WHERE ts < ? "
        "AND experiment NOT IN (SELECT experiment FROM assignments WHERE unassigned_at IS NULL) LIMIT ?)",
        (older_than, limit),
    ).rowcount


def latest(conn: sqlite3.Connection, series: str, experiment: str, unit: str) -> tuple[float, float] | None:
    """The newest reading (ts, value): one probe at the end of the unit's key range."""
    row = conn.execute(
        "SELECT ts, value FROM readings WHERE series = ? AND experiment = ? AND unit = ? "
        "ORDER BY ts DESC LIMIT 1",
        (series, experiment, unit),
    ).fetchone()
    return None if row is None else (row[0], row[1])


def first_since(
    conn: sqlite3.Connection, series: str, experiment: str, unit: str, since: float
) -> float | None:
    """The time of the first reading at or after `since`: one probe into the unit's key range."""
    row = conn.execute(
        "SELECT ts FROM readings WHERE series = ? AND experiment = ? AND unit = ? AND ts >= ? "
        "ORDER BY ts LIMIT 1",
        (series, experiment, unit, since),
    ).fetchone()
    return None if row is None else row[0]

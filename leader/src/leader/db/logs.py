"""Logs ingested from `pioreactor/<unit>/<exp>/logs/<source>/<level>`: insert, keyset pages, pruning.

A page is newest first and continues with an opaque cursor naming the last row's key (ts, dedupe); the next
page is an index range scan from there, never an OFFSET, so page 1,000 costs what page 1 costs.
"""

from __future__ import annotations

import base64
import binascii
import secrets
import sqlite3
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import msgspec

from cluster_schema.errors import BadRequest
from cluster_schema.leader import LogEntry
from cluster_schema.log_pages import LogsAnswer
from cluster_schema.topics import LOG_LEVELS

from . import log_search

MAX_LIMIT = 1000
PRUNE_CHUNK = 10_000  # rows per pruning transaction, so the ingest never waits long
COLUMNS = ("timestamp", "unit", "experiment", "job", "source", "level", "message")

# One statement per batch, rows passed as one JSON array: executemany would step (and release and
# retake the GIL) once per row, and the ingest's network thread is waiting for the GIL meanwhile.
_INSERT = (
    "INSERT OR IGNORE INTO logs (ts, unit, experiment, job, source, level, message, dedupe, own_ts) "
    "SELECT value->>0, value->>1, value->>2, value->>3, value->>4, value->>5, value->>6, value->>7, "
    "value->>8 FROM json_each(?)"
)
_encode = msgspec.json.Encoder().encode


def insert_many(conn: sqlite3.Connection, rows: Sequence[tuple[Any, ...]]) -> None:
    """Rows (ts_ms, unit, experiment, job, source, level, message, dedupe, own_ts) as
    `leader.ingest.parse` makes them; a row stored already (same key) is skipped."""
    conn.execute(_INSERT, (_encode(rows),))


def iso_ms(ts_ms: int) -> str:
    seconds, ms = divmod(int(ts_ms), 1000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{ms:03d}Z"


def encode_cursor(ts_ms: int, dedupe: int) -> str:
    return base64.urlsafe_b64encode(f"{ts_ms}:{dedupe}".encode()).decode().rstrip("=")


INT64 = (-(1 << 63), (1 << 63) - 1)


def decode_cursor(cursor: str, field: str = "before") -> tuple[int, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        ts_ms, dedupe = (int(part) for part in raw.split(":"))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        ts_ms = dedupe = INT64[1] + 1
    # both parts are SQLite integers: anything else is no cursor of ours (and would not bind)
    if not all(INT64[0] <= n <= INT64[1] for n in (ts_ms, dedupe)):
        raise BadRequest(f"Invalid cursor at `{field}`: pass the `next` value of a previous page.")
    return ts_ms, dedupe


def level_number(name: str, field: str = "min_level") -> int:
    try:
        return LOG_LEVELS.index(name.lower())
    except ValueError:
        raise BadRequest(f"Invalid log level at `{field}`: one of {', '.join(LOG_LEVELS)}.") from None


@dataclass(frozen=True)
class Filters:
    """What GET /api/logs and its live tail (leader.db.log_feed) both filter on; None: any."""

    experiment: str | None = None
    unit: str | None = None
    job: str | None = None
    min_level: str | None = None
    since_ms: int | None = None
    until_ms: int | None = None
    q: str | None = None


def filter_clauses(f: Filters) -> tuple[list[str], list[Any]]:
    """SQL conditions on `logs l`, and their parameters, for every filter but `q` (a search's own)."""
    where: list[str] = []
    args: list[Any] = []
    for column, value in (("experiment", f.experiment), ("unit", f.unit), ("job", f.job)):
        if value is not None:
            where.append(f"l.{column} = ?")
            args.append(value)
    if f.min_level is not None:
        where.append("l.level >= ?")
        args.append(level_number(f.min_level))
    for bound, op in ((f.since_ms, ">="), (f.until_ms, "<")):
        if bound is not None:
            where.append(f"l.ts {op} ?")
            args.append(bound)
    return where, args


def page(
    conn: sqlite3.Connection,
    *,
    experiment: str | None = None,
    unit: str | None = None,
    job: str | None = None,
    min_level: str | None = None,
    before: str | None = None,
    after: str | None = None,
    since_ms: int | None = None,
    until_ms: int | None = None,
    q: str | None = None,
    limit: int = 100,
) -> LogsAnswer:
    """One page, newest first; with `after`, the logs just after that cursor, oldest first (a live tail).
    `next` continues in the page's direction (null: nothing more now); `newest` is the page's newest log's
    cursor, to tail from. With `q`, only logs whose message has every word (leader.db.log_search)."""
    if before is not None and after is not None:
        raise BadRequest("Give either `?before` or `?after`, not both.")
    if since_ms is not None and until_ms is not None and since_ms >= until_ms:
        raise BadRequest("Empty time range: `?since` must be before `?until`.")
    limit = max(1, min(int(limit), MAX_LIMIT))
    where, args = filter_clauses(Filters(experiment, unit, job, min_level, since_ms, until_ms))
    newest_first = after is None
    if q is not None:
        rows = _search(conn, q, where, args, before, after, since_ms, until_ms, limit + 1)
    else:
        rows = _scan(conn, where, args, before, after, limit + 1)
    shown = rows[:limit]
    last = shown[-1] if shown else None
    more = len(rows) > limit
    newest = (shown[0] if newest_first else last) if shown else None
    return LogsAnswer(
        logs=[entry(r) for r in shown],
        next=encode_cursor(last[1], last[0]) if more and last is not None else None,
        newest=encode_cursor(newest[1], newest[0]) if newest is not None else after,
        indexing=log_search.behind(conn) if q is not None else None,
    )


def _scan(
    conn: sqlite3.Connection,
    where: list[str],
    args: list[Any],
    before: str | None,
    after: str | None,
    limit: int,
) -> list[Any]:
    if before is not None:
        ts_ms, dedupe = decode_cursor(before)
        # `ts <= ?` is the index range; the OR only breaks ties within one millisecond
        where = [*where, "l.ts <= ? AND (l.ts < ? OR l.dedupe < ?)"]
        args = [*args, ts_ms, ts_ms, dedupe]
    if after is not None:
        ts_ms, dedupe = decode_cursor(after, "after")
        where = [*where, "l.ts >= ? AND (l.ts > ? OR l.dedupe > ?)"]
        args = [*args, ts_ms, ts_ms, dedupe]
    sql = f"SELECT {log_search.ENTRY_COLUMNS} FROM logs l"  # noqa: S608 - fixed clauses, values as parameters
    if where:
        sql += " WHERE " + " AND ".join(where)
    order = "ASC" if after is not None else "DESC"
    sql += f" ORDER BY l.ts {order}, l.dedupe {order} LIMIT ?"
    return conn.execute(sql, [*args, limit]).fetchall()


def _search(
    conn: sqlite3.Connection,
    q: str,
    where: list[str],
    args: list[Any],
    before: str | None,
    after: str | None,
    since_ms: int | None,
    until_ms: int | None,
    limit: int,
) -> list[Any]:
    # the time range and the cursor bound the index's rowid range itself (ids are in time order)
    lo = None if since_ms is None else since_ms * log_search.SHIFT - 1
    hi = None if until_ms is None else until_ms * log_search.SHIFT
    if before is not None:
        cursor_id = log_search.id_of(conn, *decode_cursor(before))
        hi = cursor_id if hi is None else min(hi, cursor_id)
    if after is not None:
        cursor_id = log_search.id_of(conn, *decode_cursor(after, "after"))
        lo = cursor_id if lo is None else max(lo, cursor_id)
    return log_search.search_rows(
        conn, q, where, args, lo_id=lo, hi_id=hi, newest_first=after is None, limit=limit
    )


def entry(r: Sequence[Any]) -> LogEntry:
    """A row (dedupe, ts, unit, experiment, job, source, level, message, author) as an answer."""
    return LogEntry(
        timestamp=iso_ms(r[1]),
        unit=r[2],
        experiment=r[3],
        job=r[4],
        source=r[5],
        level=LOG_LEVELS[r[6]],
        message=r[7],
        author=r[8],
    )


def get(conn: sqlite3.Connection, ts_ms: int, dedupe: int) -> LogEntry | None:
    row = conn.execute(
        "SELECT dedupe, ts, unit, experiment, job, source, level, message, author FROM logs "
        "WHERE ts = ? AND dedupe = ?",
        (ts_ms, dedupe),
    ).fetchone()
    return entry(row) if row else None


NOTE_SOURCE = "user"
NOTE_UNIT = "$broadcast"  # Pioreactor's name for "every unit": a note about the whole experiment


def add_note(
    conn: sqlite3.Connection, experiment: str, message: str, level: str, unit: str | None, author: str
) -> LogEntry:
    """A manual note, stored as a log (`source` user) with its author; answers it as stored."""
    ts_ms = int(time.time() * 1000)
    dedupe = secrets.randbits(62)  # the key's tiebreak: two notes in one millisecond are two notes
    conn.execute(
        "INSERT INTO logs (ts, dedupe, unit, experiment, job, source, level, message, own_ts, author) "
        "VALUES (?, ?, ?, ?, NULL, ?, ?, ?, 1, ?)",
        (
            ts_ms,
            dedupe,
            unit or NOTE_UNIT,
            experiment,
            NOTE_SOURCE,
            level_number(level, "$.level"),
            message,
            author,
        ),
    )
    entry = get(conn, ts_ms, dedupe)
    assert entry is not None
    return entry


def rows_for_export(
    conn: sqlite3.Connection, experiment: str, since: float | None = None, until: float | None = None
) -> Iterator[tuple[Any, ...]]:
    """(epoch seconds, unit, job, source, level, message, author), oldest first, in [since, until)."""
    lo = -1 if since is None else int(since * 1000)
    hi = 2**62 if until is None else int(until * 1000)
    cur = conn.execute(
        "SELECT ts, unit, job, source, level, message, author FROM logs "
        "WHERE experiment = ? AND ts >= ? AND ts < ? ORDER BY ts, dedupe",
        (experiment, lo, hi),
    )
    for ts_ms, unit, job, source, level, message, author in cur:
        yield (ts_ms / 1000, unit, job or "", source, LOG_LEVELS[level], message, author or "")


def prune(conn: sqlite3.Connection, older_than: float, limit: int = PRUNE_CHUNK) -> int:
    """Delete up to `limit` logs older than `older_than` (epoch seconds); answers how many.

    Never those of an experiment that still has units assigned: a long run keeps its whole history."""
    return conn.execute(
        "DELETE FROM logs WHERE (ts, dedupe) IN (SELECT ts, dedupe FROM logs WHERE ts < ? "
        "AND experiment NOT IN (SELECT experiment FROM assignments WHERE unassigned_at IS NULL) LIMIT ?)",
        (int(older_than * 1000), limit),
    ).rowcount

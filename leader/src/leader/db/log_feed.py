"""The live tail of logs (GET /api/logs/events, the /logs page): the logs stored after a cursor, in the
order they were stored, with GET /api/logs's filters. Table `log_feed` (migration 0250) numbers each
stored log in commit order; that number is the stream's event id.

Text search (`q`) is matched on the new lines themselves, in a small FTS5 table of the reading connection
(temp: nothing is written to the store) with the search index's tokenizer and the same query text
(log_search.match_expression): the same words match as on a page, and a line matches as soon as it is
stored. Waiting for the worker's index instead would delay the tail, or lose lines it had not indexed yet.
"""

from __future__ import annotations

import sqlite3
from typing import Any

import msgspec

from cluster_schema.leader import LogEntry

from . import log_search
from . import logs as logs_db

KEEP = 200_000  # rows kept by prune(): a browser reconnects within seconds; hours of logs stay resumable
WINDOW = 5_000  # numbers looked at per query: a selective filter never scans a long backlog at once
BATCH = 500
_encode = msgspec.json.Encoder().encode


def latest(db: sqlite3.Connection) -> int:
    return int(db.execute("SELECT coalesce(max(seq), 0) FROM log_feed").fetchone()[0])


def oldest(db: sqlite3.Connection) -> int:
    """The smallest number still kept (0 when there is none)."""
    return int(db.execute("SELECT coalesce(min(seq), 0) FROM log_feed").fetchone()[0])


def read(
    db: sqlite3.Connection, filters: logs_db.Filters, after: int, limit: int = BATCH
) -> tuple[list[tuple[int, LogEntry]], int, bool]:
    """The logs stored after number `after` that pass `filters`, oldest first, as (number, entry); the
    cursor to continue from (the last number looked at, whether it matched or not); whether more may
    follow at once."""
    top = latest(db)
    if top <= after:
        return [], after, False
    upper = min(top, after + WINDOW)
    where, args = logs_db.filter_clauses(filters)
    # CROSS JOIN keeps `log_feed` outside: its number range is the scan, each log a lookup by its key
    # (log_feed has no index on the key; a plan led by a filter's index on `logs` would need one)
    sql = (
        f"SELECT f.seq, {log_search.ENTRY_COLUMNS} FROM log_feed f "  # noqa: S608 - fixed clauses
        "CROSS JOIN logs l ON l.ts = f.ts AND l.dedupe = f.dedupe "
        f"WHERE {' AND '.join(['f.seq > ?', 'f.seq <= ?', *where])} ORDER BY f.seq LIMIT ?"
    )
    rows = db.execute(sql, [after, upper, *args, limit]).fetchall()
    cursor = rows[-1][0] if len(rows) == limit else upper
    if filters.q is not None:
        rows = _matching(db, filters.q, rows)
    return [(r[0], logs_db.entry(r[1:])) for r in rows], cursor, cursor < top


def _matching(db: sqlite3.Connection, q: str, rows: list[Any]) -> list[Any]:
    """The rows whose message has what `q` asks for, as a search of the index would find them."""
    if not rows:
        return rows
    db.execute(
        "CREATE VIRTUAL TABLE IF NOT EXISTS temp.log_feed_match "
        f"USING fts5(message, tokenize='{log_search.TOKENIZE}')"
    )
    db.execute("DELETE FROM temp.log_feed_match")
    db.execute(
        "INSERT INTO temp.log_feed_match (rowid, message) SELECT value->>0, value->>1 FROM json_each(?)",
        (_encode([(r[0], r[8]) for r in rows]),),  # (seq, message)
    )
    found = db.execute(
        "SELECT rowid FROM temp.log_feed_match WHERE log_feed_match MATCH ?",
        (log_search.match_expression(q),),
    )
    hits = {r[0] for r in found}
    return [r for r in rows if r[0] in hits]


def prune(db: sqlite3.Connection, keep: int | None = None) -> int:
    """Drop all but the newest `keep` (default KEEP) numbers (the newest always stays, so numbers are never
    reused)."""
    keep = KEEP if keep is None else keep
    return db.execute(
        "DELETE FROM log_feed WHERE seq <= (SELECT max(seq) FROM log_feed) - ?", (max(keep, 1),)
    ).rowcount

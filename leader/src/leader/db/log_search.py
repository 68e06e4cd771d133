"""Text search over logs: the FTS5 index of migration 0140, how it is filled, and how it is read.

Filling (`fill_batch`, run by the worker's leader.log_index) takes up to `batch` logs at a time, in one short
write transaction so that the ingest never waits long: first the logs written since the migration (queued by
a trigger in `log_search_pending`), then the older ones (the backfill walks down from a high-water mark,
newest first). Each indexed log gets the id `ts * 2^20 + n`, so the index's rowid order is time order.

Reading (`search_page`): the user's words, each quoted (a word ending in `*` is a prefix), all required;
matches come newest first straight from the index, joined to `logs` for the filters, one keyset page at a
time. A log is found once it is indexed: normally within a second of its arrival.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Sequence
from typing import Any

from cluster_schema.errors import BadRequest

from . import transaction

SHIFT = 1 << 20  # ids per millisecond
TOKENIZE = "unicode61 remove_diacritics 2"  # the index's (migration 0140): what a word is
MAX_TS = 1 << 42  # ms (year 2109): an id must fit in 63 bits; a log beyond it is not indexed
BATCH = 500
MAX_TERMS = 16

# a log's columns as db.logs.entry reads them
ENTRY_COLUMNS = "l.dedupe, l.ts, l.unit, l.experiment, l.job, l.source, l.level, l.message, l.author"


def match_expression(q: str) -> str:
    """FTS5 query text for what a person typed: words (all required), `"a phrase"`, `word*` for a prefix.

    Nothing of FTS5's own syntax (NEAR, column filters, operators) reaches it: every term is quoted."""
    terms = []
    for phrase, word in re.findall(r'"([^"]*)"|(\S+)', q):
        text = (phrase or word).replace('"', "")
        prefix = bool(word) and text.endswith("*") and len(text.rstrip("*")) >= 2
        text = text.rstrip("*")
        if not re.search(r"\w", text):
            continue
        terms.append(f'"{text}"' + ("*" if prefix else ""))
    if not terms:
        raise BadRequest("Nothing to search for at `?q`: give at least one word.")
    if len(terms) > MAX_TERMS:
        raise BadRequest(f"Too many words at `?q`: {MAX_TERMS} at most.")
    return " ".join(terms)


# -- filling ----------------------------------------------------------------------------------------------
def _index(db: sqlite3.Connection, rows: Sequence[tuple[int, int, str]]) -> int:
    """Index (ts, dedupe, message) rows not indexed yet; answers how many were added."""
    ids: list[tuple[int, int]] = []
    texts: list[tuple[int, str]] = []
    taken: dict[int, tuple[int, set[int]]] = {}  # ms -> (next n, dedupes indexed in that ms)
    for ts, dedupe, message in rows:
        if not 0 <= ts < MAX_TS:
            continue
        if ts not in taken:
            found = db.execute(
                "SELECT id, dedupe FROM log_search_rows WHERE id BETWEEN ? AND ?",
                (ts * SHIFT, ts * SHIFT + SHIFT - 1),
            ).fetchall()
            taken[ts] = (max((r[0] for r in found), default=ts * SHIFT - 1) + 1, {r[1] for r in found})
        n, seen = taken[ts]
        if dedupe in seen or n >= (ts + 1) * SHIFT:
            continue
        seen.add(dedupe)
        taken[ts] = (n + 1, seen)
        ids.append((n, dedupe))
        texts.append((n, message))
    db.executemany("INSERT INTO log_search_rows (id, dedupe) VALUES (?, ?)", ids)
    db.executemany("INSERT INTO log_search (rowid, message) VALUES (?, ?)", texts)
    return len(ids)


def _fill_pending(db: sqlite3.Connection, batch: int) -> tuple[int, int]:
    keys = db.execute(
        "SELECT ts, dedupe FROM log_search_pending ORDER BY ts, dedupe LIMIT ?", (batch,)
    ).fetchall()
    if not keys:
        return 0, 0
    rows = db.execute(
        "SELECT l.ts, l.dedupe, l.message FROM log_search_pending p JOIN logs l "
        "ON l.ts = p.ts AND l.dedupe = p.dedupe ORDER BY p.ts, p.dedupe LIMIT ?",
        (batch,),
    ).fetchall()
    added = _index(db, [tuple(r) for r in rows])
    db.executemany("DELETE FROM log_search_pending WHERE ts = ? AND dedupe = ?", [tuple(k) for k in keys])
    return len(keys), added


def _fill_backfill(db: sqlite3.Connection, batch: int) -> tuple[int, int]:
    mark = db.execute("SELECT backfill_ts, backfill_dedupe FROM log_search_state WHERE id = 1").fetchone()
    if mark is None or mark[0] is None:
        return 0, 0
    rows = db.execute(
        "SELECT ts, dedupe, message FROM logs WHERE ts <= ? AND (ts < ? OR dedupe < ?) "
        "ORDER BY ts DESC, dedupe DESC LIMIT ?",
        (mark[0], mark[0], mark[1], batch),
    ).fetchall()
    added = _index(db, [tuple(r) for r in rows])
    last = (rows[-1][0], rows[-1][1]) if len(rows) == batch else (None, None)
    db.execute("UPDATE log_search_state SET backfill_ts = ?, backfill_dedupe = ? WHERE id = 1", last)
    return len(rows), added


def fill_batch(db: sqlite3.Connection, batch: int = BATCH) -> tuple[int, int]:
    """One batch: queued logs first, else the backfill. Answers (logs looked at, logs indexed); (0, 0) when
    the index has caught up."""
    with transaction(db):
        seen, added = _fill_pending(db, batch)
        if seen:
            return seen, added
        return _fill_backfill(db, batch)


def behind(db: sqlite3.Connection) -> bool:
    """Whether some stored logs are not searchable yet."""
    pending = db.execute("SELECT 1 FROM log_search_pending LIMIT 1").fetchone()
    mark = db.execute("SELECT backfill_ts FROM log_search_state WHERE id = 1").fetchone()
    return pending is not None or (mark is not None and mark[0] is not None)


# -- reading ----------------------------------------------------------------------------------------------
def id_of(db: sqlite3.Connection, ts: int, dedupe: int) -> int:
    """The index id of the log (ts, dedupe) - a cursor - or, if it is not indexed, the first id of its ms."""
    if not 0 <= ts < MAX_TS:
        return max(0, min(ts, MAX_TS)) * SHIFT
    row = db.execute(
        "SELECT id FROM log_search_rows WHERE id BETWEEN ? AND ? AND dedupe = ?",
        (ts * SHIFT, ts * SHIFT + SHIFT - 1, dedupe),
    ).fetchone()
    return int(row[0]) if row else ts * SHIFT


def search_rows(
    db: sqlite3.Connection,
    q: str,
    where: list[str],
    args: list[Any],
    *,
    lo_id: int | None,
    hi_id: int | None,
    newest_first: bool,
    limit: int,
) -> list[sqlite3.Row]:
    """Matching logs (ENTRY_COLUMNS), ids in (lo_id, hi_id), with the extra `where` on `logs l`."""
    clauses = ["log_search MATCH ?"]
    params: list[Any] = [match_expression(q)]
    if lo_id is not None:
        clauses.append("s.rowid > ?")
        params.append(lo_id)
    if hi_id is not None:
        clauses.append("s.rowid < ?")
        params.append(hi_id)
    clauses += where
    params += args
    order = "DESC" if newest_first else "ASC"
    # only fixed clauses of this module and db.logs are joined in; every value is a parameter
    sql = (
        f"SELECT {ENTRY_COLUMNS} FROM log_search s "  # noqa: S608
        "JOIN log_search_rows r ON r.id = s.rowid "
        "JOIN logs l ON l.ts = (r.id >> 20) AND l.dedupe = r.dedupe "
        f"WHERE {' AND '.join(clauses)} ORDER BY s.rowid {order} LIMIT ?"
    )
    return db.execute(sql, [*params, limit]).fetchall()

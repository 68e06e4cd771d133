"""Idle store connections kept between requests (and worker tasks) of one process, for `get_db()`.

Why: a new SQLite connection reads and parses the whole schema (tables, indexes, the change-log triggers)
on its first statement - about 1 ms on a quiet machine and 5 ms on a loaded one, more than a small read
costs (`/api/units` for 100 units). A connection given back after its request is reused by the next.

Safety: a connection comes back only outside a transaction (one left open is rolled back first, or
dropped); its per-connection settings are the ones `connect()` sets, which no caller changes (the lock wait
of `transaction()` restores busy_timeout). A store replaced on disk (`flask --app leader restore`) is
noticed by its file identity (device, inode): connections to the old file are closed, never reused.
At most `MAX_IDLE` connections wait, over all stores (tests create many; a leader has one store).
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
from collections import deque

MAX_IDLE = 16

Identity = tuple[int, int]
_lock = threading.Lock()
_idle: deque[tuple[str, str, Identity, sqlite3.Connection]] = deque()  # newest last


def identity(path: str) -> Identity | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_dev, st.st_ino


def take(path: str, synchronous: str) -> tuple[sqlite3.Connection, Identity | None] | None:
    """An idle connection to the store at `path` as it is on disk now, or None."""
    now = identity(path)
    stale: list[sqlite3.Connection] = []
    found = None
    with _lock:
        for i in range(len(_idle) - 1, -1, -1):
            p, sync, ident, conn = _idle[i]
            if p != path:
                continue
            if ident != now:
                stale.append(conn)
                del _idle[i]
            elif sync == synchronous and found is None:
                found = conn, ident
                del _idle[i]
    for conn in stale:
        _close(conn)
    return found


def give(path: str, synchronous: str, ident: Identity | None, conn: sqlite3.Connection) -> None:
    """Keep `conn` for the next request, or close it."""
    if ident is None or ident != identity(path):
        _close(conn)
        return
    if conn.in_transaction:
        try:
            conn.execute("ROLLBACK")
        except sqlite3.Error:
            _close(conn)
            return
    evicted = None
    with _lock:
        _idle.append((path, synchronous, ident, conn))
        if len(_idle) > MAX_IDLE:
            evicted = _idle.popleft()[3]
    if evicted is not None:
        _close(evicted)


def clear() -> None:
    """Close every idle connection (tests that swap stores under a running app, and shutdown)."""
    with _lock:
        conns = [entry[3] for entry in _idle]
        _idle.clear()
    for conn in conns:
        _close(conn)


def _close(conn: sqlite3.Connection) -> None:
    with contextlib.suppress(sqlite3.Error):
        conn.close()

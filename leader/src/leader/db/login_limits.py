"""Failed password checks counted in the store, so every gunicorn worker sees the same counts.

A check first takes a slot (a row) under the write lock, so N workers racing cannot together try more than
the limit; a correct password gives the slot back. Keys: `user:<name>` and `addr:<address>`.
"""

from __future__ import annotations

import math
import sqlite3
import time

from . import transaction

WINDOW = 60.0  # seconds
KEEP = 3600.0  # rows older than this are deleted as new ones come


def take(db: sqlite3.Connection, keys: list[str], limit: int) -> tuple[list[int], float]:
    """(slot ids, 0) when every key is under `limit` failures in the window, else ([], seconds to wait)."""
    moment = time.time()
    with transaction(db):
        wait = 0.0
        for key in keys:
            rows = db.execute(
                "SELECT at FROM login_failures WHERE key = ? AND at > ? ORDER BY at",
                (key, moment - WINDOW),
            ).fetchall()
            if len(rows) >= limit:
                # the window frees a slot when the (n - limit + 1)-th newest failure ages out
                wait = max(wait, rows[len(rows) - limit][0] + WINDOW - moment)
        if wait > 0:
            return [], float(max(1, math.ceil(wait)))
        db.execute("DELETE FROM login_failures WHERE at < ?", (moment - KEEP,))
        ids = []
        for key in keys:
            cur = db.execute("INSERT INTO login_failures (key, at) VALUES (?, ?)", (key, moment))
            ids.append(int(cur.lastrowid or 0))
    return ids, 0.0


def give_back(db: sqlite3.Connection, slot_ids: list[int]) -> None:
    """The password was right: the attempt was no failure."""
    with transaction(db):
        db.executemany("DELETE FROM login_failures WHERE id = ?", [(i,) for i in slot_ids])

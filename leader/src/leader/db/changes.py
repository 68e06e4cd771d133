"""The change log behind GET /api/experiments/<exp>/events (table `changes`, kept by triggers: see
migrations/0062_changes.sql): read an experiment's changes after a cursor, turn them into events, prune.
GET /api/events reads the experiments' own lifecycle the same way, under the key EXPERIMENTS (0240), and
alerts opening and resolving under the key ALERTS (0270).

A change row holds keys and small values; `events()` reads what the UI needs (a log entry, an operation
answer) from their own tables at sending time. Several changes of one operation in a batch become one
`operation` event with the newest `seq` (it answers the operation as it is now, so nothing is lost).
"""

from __future__ import annotations

import contextlib
import sqlite3
from dataclasses import dataclass
from typing import Any

import msgspec

from cluster_schema.errors import NotFound

from . import alerts as alerts_db
from . import logs as logs_db
from . import operations as ops_db

EXPERIMENTS = "$experiments"  # the key of the experiments' own lifecycle changes (migration 0240)
ALERTS = "$alerts"  # the key of alerts opening and resolving (migration 0270)
CLUSTER = (EXPERIMENTS, ALERTS)  # what GET /api/events reads
KEEP = 200_000  # rows kept by prune(): at 100 readings a second, about half an hour of history
BATCH = 500
_json = msgspec.json.Decoder()


@dataclass(frozen=True)
class Event:
    seq: int
    name: str  # job_state | setting | reading | log | operation | dosing | experiment | alert
    data: Any


def latest(db: sqlite3.Connection) -> int:
    return int(db.execute("SELECT coalesce(max(seq), 0) FROM changes").fetchone()[0])


def oldest(db: sqlite3.Connection) -> int:
    """The smallest seq still kept (0 when there is none)."""
    return int(db.execute("SELECT coalesce(min(seq), 0) FROM changes").fetchone()[0])


def _value(text: str | None) -> Any:
    if text is None:
        return None
    try:
        return _json.decode(text)
    except msgspec.DecodeError:
        return text


def events(
    db: sqlite3.Connection, experiment: str | tuple[str, ...], after: int, limit: int = BATCH
) -> tuple[list[Event], int, bool]:
    """The experiment's events (or those of several keys, e.g. CLUSTER) after `after`, oldest first; the
    cursor to continue from (the last seq read, even when a row gave no event: a pruned log, an operation
    sent once for its newest change); whether more rows may follow at once."""
    keys = (experiment,) if isinstance(experiment, str) else experiment
    marks = ",".join("?" * len(keys))
    rows = db.execute(
        "SELECT seq, kind, unit, job, name, value, t FROM changes "  # noqa: S608 (only `?` marks)
        f"WHERE experiment IN ({marks}) AND seq > ? ORDER BY seq LIMIT ?",
        (*keys, after, limit),
    ).fetchall()
    if not rows:
        return [], after, False
    newest_of_op = {r[4]: r[0] for r in rows if r[1] == "operation"}
    open_now = alerts_db.open_count(db) if any(r[1] == "alert" for r in rows) else 0
    out: list[Event] = []
    for seq, kind, unit, job, name, value, t in rows:
        if kind == "job_state":
            out.append(Event(seq, kind, {"unit": unit, "job": job, "state": value}))
        elif kind == "setting":
            out.append(Event(seq, kind, {"unit": unit, "job": job, "name": name, "value": _value(value)}))
        elif kind == "reading":
            out.append(Event(seq, kind, {"series": name, "unit": unit, "t": t, "value": value}))
        elif kind == "dosing":  # migration 0190
            out.append(Event(seq, kind, {"unit": unit, "t": t, "event": name, "volume_change": value}))
        elif kind == "experiment":  # under EXPERIMENTS only
            out.append(Event(seq, kind, {"name": name, "change": value}))
        elif kind == "alert":  # under ALERTS only
            found = alerts_db.event(db, int(name), value, open_now)
            if found is not None:  # deleted meanwhile
                out.append(Event(seq, kind, found))
        elif kind == "log":
            entry = logs_db.get(db, int(t), int(value))
            if entry is not None:  # pruned meanwhile
                out.append(Event(seq, kind, entry))
        elif kind == "operation" and newest_of_op[name] == seq:
            with contextlib.suppress(NotFound):  # deleted meanwhile
                out.append(Event(seq, kind, ops_db.get(db, name)))
    return out, int(rows[-1][0]), len(rows) == limit


def prune(db: sqlite3.Connection, keep: int = KEEP) -> int:
    """Drop all but the newest `keep` changes (the newest always stays, so seq numbers are never reused)."""
    return db.execute(
        "DELETE FROM changes WHERE seq <= (SELECT max(seq) FROM changes) - ?", (max(keep, 1),)
    ).rowcount

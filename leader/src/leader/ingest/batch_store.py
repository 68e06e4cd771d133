"""What a batch of MQTT messages becomes in the store: each message routed to rows (a bad one counted and
warned about, at most once a minute per topic), the rows of a batch stored in one transaction, and the
store's upkeep (pruning the change log and, with a retention, old logs, readings and audit entries).
`writer.BatchWriter` runs this on its thread, deciding when a batch is taken and committed.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from typing import NamedTuple, cast

from ..db import audit, begin_immediate, changes, chart_markers, fleet, job_states, logs, presence, readings
from ..db.fleet import StatusRow
from ..db.log_feed import prune as prune_log_feed
from .dosing import DOSING
from .parse import LOG, PRESENCE, READING, SETTING, STATE, VALUE, Malformed, Router, Unknown
from .status import STATUS

log = logging.getLogger("leader.ingest")


class Message(NamedTuple):
    topic: str
    payload: bytes
    received_at: float
    retained: bool = False
    ack: tuple[int, int, int] | None = None  # what the MQTT client needs to acknowledge it


class Routed(NamedTuple):
    rows: dict[str, list[tuple]]
    seen: dict[str, float]  # unit -> newest live message
    messages: int


class Stats:
    """Counters, written by the writer thread only."""

    def __init__(self) -> None:
        self.committed = 0  # messages whose batch committed
        self.malformed = 0
        self.unknown = 0
        self.batches = 0
        self.db_errors = 0
        self.lag_seconds = 0.0  # from receiving the oldest message of the last batch to its commit

    def as_dict(self) -> dict[str, float]:
        return dict(vars(self))


class BatchStore:
    """Routes and stores batches; the counters in `stats`. Used from one thread at a time."""

    def __init__(self, router: Router, *, changes_keep: int = changes.KEEP) -> None:
        self.router = router
        self.changes_keep = changes_keep
        self.stats = Stats()
        self._warned: dict[str, tuple[float, int]] = {}

    def write(self, conn: sqlite3.Connection, batch: list[Message]) -> None:
        """Route and store one batch in one transaction (no acks; the thread acks after commit)."""
        self.store(conn, self.route(batch))

    def route(self, batch: list[Message], count: bool = True) -> Routed:
        rows: dict[str, list[tuple]] = {
            LOG: [],
            STATE: [],
            SETTING: [],
            VALUE: [],
            READING: [],
            PRESENCE: [],
            STATUS: [],
            DOSING: [],
        }
        seen: dict[str, float] = {}
        route = self.router.route
        stats = self.stats
        for topic, payload, received_at, retained, _ack in batch:
            alive = not retained  # a retained message is old news: it says nothing about being alive now
            try:
                for kind, row in route(topic, payload, received_at):
                    if kind == STATUS and retained:  # old news: says nothing about the clock now
                        row = cast(StatusRow, row)._replace(clock_offset=None)
                    rows[kind].append(row)
                    if kind == PRESENCE and row[1] != "online":
                        alive = False  # the broker speaking for a unit (its last will) is no sign of life
                    elif kind == PRESENCE and row[3] and row[3] > seen.get(row[0], 0.0):
                        seen[row[0]] = row[3]
            except Unknown:
                if count:
                    stats.unknown += 1
                    self._warn(topic, "no use for this topic")
                continue
            except Malformed as exc:
                if count:
                    stats.malformed += 1
                    self._warn(topic, f"malformed payload: {exc}")
                continue
            except Exception as exc:  # a parser bug must not stop the ingest: count it like bad input
                if count:
                    stats.malformed += 1
                    self._warn(topic, f"cannot parse: {exc!r}")
                continue
            if alive:
                unit = topic.split("/", 2)[1]
                if not unit.startswith("$") and received_at > seen.get(unit, 0.0):
                    seen[unit] = received_at
        return Routed(rows, seen, len(batch))

    def store(self, conn: sqlite3.Connection, routed: Routed) -> None:
        rows, seen = routed.rows, routed.seen
        begin_immediate(conn)  # polls for the lock as every writer does: no side starves the other
        if rows[LOG]:
            logs.insert_many(conn, rows[LOG])
        if rows[READING]:
            readings.insert_many(conn, rows[READING])
        if rows[STATE]:
            job_states.apply_states(conn, rows[STATE])
        if rows[SETTING]:
            job_states.apply_settings(conn, rows[SETTING])
        if rows[VALUE]:
            job_states.apply_values(conn, rows[VALUE])
        if rows[PRESENCE]:
            presence.apply_presence(conn, rows[PRESENCE])
        if rows[DOSING]:
            chart_markers.insert_dosing(conn, rows[DOSING])
        if rows[STATUS]:
            fleet.apply_status(conn, cast(list[StatusRow], rows[STATUS]))
        if seen:
            presence.touch(conn, seen)
        conn.execute("COMMIT")
        self.stats.committed += routed.messages
        self.stats.batches += 1

    def _warn(self, topic: str, text: str) -> None:
        """Log a bad message with its topic - at most once a minute per topic, with the count since."""
        now = time.monotonic()
        last, skipped = self._warned.get(topic, (0.0, 0))
        if now - last < 60.0:
            self._warned[topic] = (last, skipped + 1)
            return
        if len(self._warned) > 10_000:
            self._warned.clear()
        self._warned[topic] = (now, 0)
        more = f" (and {skipped} more since the last warning)" if skipped else ""
        log.warning("ingest: %s: %s%s", topic, text, more)

    def prune_changes(self, conn: sqlite3.Connection) -> None:
        """Keep the newest `changes_keep` rows of the live-updates change log, and the newest numbers of
        the logs' live tail (short statements)."""
        try:
            conn.execute("BEGIN IMMEDIATE")
            changes.prune(conn, self.changes_keep)
            prune_log_feed(conn)
            conn.execute("COMMIT")
        except sqlite3.Error as exc:
            log.warning("ingest: pruning the change log failed (%s); will retry", exc)
            if conn.in_transaction:
                conn.execute("ROLLBACK")

    def prune(self, conn: sqlite3.Connection, older_than: float) -> None:
        """Drop logs, readings and audit entries older than the retention, in short transactions."""
        try:
            for prune, chunk in (
                (logs.prune, logs.PRUNE_CHUNK),
                (readings.prune, readings.PRUNE_CHUNK),
                (audit.prune, audit.PRUNE_CHUNK),
            ):
                while True:
                    conn.execute("BEGIN IMMEDIATE")
                    n = prune(conn, older_than, chunk)
                    conn.execute("COMMIT")
                    if n < chunk:
                        break
        except sqlite3.Error as exc:
            log.warning("ingest: pruning failed (%s); will retry", exc)
            if conn.in_transaction:
                conn.execute("ROLLBACK")

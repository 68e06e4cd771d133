"""The batch writer: one thread turns queued MQTT messages into rows and commits them in batches.

A batch is committed when it holds `batch_size` messages or `flush_interval` seconds after its first
message, whichever comes first - never one transaction per message. After the commit the writer hands
the batch to `on_commit` (the MQTT client's `ack`): with the client in manual-ack mode a message is
acknowledged to the broker once it is on disk, so a crash before the commit means the broker delivers it
again, and the store's dedupe keys make that second delivery a no-op.
"""

from __future__ import annotations

import logging
import queue
import sqlite3
import threading
import time
from collections.abc import Callable
from typing import NamedTuple, cast

from ..db import audit, begin_immediate, changes, chart_markers, fleet, job_states, logs, presence, readings
from ..db.fleet import StatusRow
from ..db.log_feed import prune as prune_log_feed
from .dosing import DOSING
from .parse import LOG, PRESENCE, READING, SETTING, STATE, VALUE, Malformed, Router, Unknown
from .status import STATUS

log = logging.getLogger("leader.ingest")

CHANGES_PRUNE_EVERY = 60.0  # seconds between prunes of the live-updates change log
_NAP = 0.005  # seconds between looks at the queue while a batch gathers


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


class BatchWriter:
    def __init__(
        self,
        connect: Callable[[], sqlite3.Connection],
        router: Router,
        *,
        batch_size: int = 1000,
        flush_interval: float = 0.02,
        retention_days: float | None = None,
        prune_every: float = 3600.0,
        changes_keep: int = changes.KEEP,
        on_commit: Callable[[list[Message]], None] | None = None,
    ) -> None:
        self.on_commit = on_commit
        self._connect = connect
        self.router = router
        self.batch_size = batch_size
        self.flush_interval = flush_interval
        self.retention_days = retention_days
        self.prune_every = prune_every
        self.changes_keep = changes_keep
        self.stats = Stats()
        self._queue: queue.SimpleQueue[Message | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="ingest-writer", daemon=True)
        self._stopping = threading.Event()
        self._warned: dict[str, tuple[float, int]] = {}

    def put(self, message: Message) -> None:
        self._queue.put(message)

    def start(self) -> BatchWriter:
        self._thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Commit what is queued, then end the thread."""
        self._stopping.set()
        self._queue.put(None)
        self._thread.join(timeout)

    def _run(self) -> None:
        conn = self._connect()
        conn.isolation_level = None  # explicit BEGIN/COMMIT below
        next_prune = time.monotonic()  # once at start, then every prune_every seconds
        next_changes_prune = time.monotonic() + CHANGES_PRUNE_EVERY
        try:
            while True:
                batch, done = self._collect()
                if batch:
                    try:
                        self._commit_with_retry(conn, batch)
                    except Exception:  # keep the thread alive; unacked messages come again later
                        log.exception("ingest: dropping a batch of %d messages after an error", len(batch))
                if done:
                    return
                if time.monotonic() >= next_changes_prune:
                    self.prune_changes(conn)
                    next_changes_prune = time.monotonic() + CHANGES_PRUNE_EVERY
                if self.retention_days and time.monotonic() >= next_prune:
                    self.prune(conn, time.time() - self.retention_days * 86400)
                    next_prune = time.monotonic() + self.prune_every
        finally:
            conn.close()

    def _collect(self) -> tuple[list[Message], bool]:
        """The next batch: the first message, then what arrives within `flush_interval` (at most
        `batch_size`).

        The writer sleeps through the interval and then takes what queued, rather than waking for each
        message: a wake-up per message hands the GIL back and forth with the network thread, which on a
        live stream (messages arriving one by one) cost more than parsing and storing them.
        """
        q = self._queue
        try:
            first = q.get(timeout=1.0)
        except queue.Empty:
            return [], False
        if first is None:
            return [], True
        batch = [first]
        # a few short naps, so a fast stream (a backlog draining) fills its batch without the full wait
        deadline = time.monotonic() + self.flush_interval
        while q.qsize() < self.batch_size - 1 and not self._stopping.is_set():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            time.sleep(min(remaining, _NAP))
        get = q.get_nowait
        for _ in range(self.batch_size - 1):
            try:
                item = get()
            except queue.Empty:
                break
            if item is None:
                return batch, True
            batch.append(item)
        return batch, False

    def _commit_with_retry(self, conn: sqlite3.Connection, batch: list[Message]) -> None:
        routed = self.route(batch)
        delay = 0.05
        while True:
            try:
                self.store(conn, routed)
                break
            except sqlite3.OperationalError as exc:
                # busy, disk full, I/O: nothing was acknowledged, so retry; if we die meanwhile, the
                # broker redelivers
                self._rollback(conn)
                self.stats.db_errors += 1
                log.warning("ingest: commit failed (%s); retrying %d messages", exc, len(batch))
                if self._stopping.wait(delay):
                    return
                delay = min(delay * 2, 2.0)
            except Exception:
                # a row the store refuses for good would block every later message: store the batch
                # one message at a time and count the refused ones as malformed
                self._rollback(conn)
                log.exception("ingest: the store refused a batch; storing its messages one by one")
                self._store_each(conn, batch)
                break
        self.stats.lag_seconds = max(0.0, time.time() - batch[0].received_at)
        if self.on_commit is not None:
            self.on_commit(batch)

    def _store_each(self, conn: sqlite3.Connection, batch: list[Message]) -> None:
        for message in batch:
            try:
                self.store(conn, self.route([message], count=False))
            except sqlite3.OperationalError:
                raise
            except Exception as exc:
                self._rollback(conn)
                self.stats.malformed += 1
                self._warn(message.topic, f"the store refused it: {exc}")

    @staticmethod
    def _rollback(conn: sqlite3.Connection) -> None:
        if conn.in_transaction:
            conn.execute("ROLLBACK")

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

"""The batch writer: one thread turns queued MQTT messages into rows and commits them in batches.

A batch is committed when it holds `batch_size` messages or `flush_interval` seconds after its first
message, whichever comes first - never one transaction per message. After the commit the writer hands
the batch to `on_commit` (the MQTT client's `ack`): with the client in manual-ack mode a message is
acknowledged to the broker once it is on disk, so a crash before the commit means the broker delivers it
again, and the store's dedupe keys make that second delivery a no-op. What a batch becomes in the store
(rows, one transaction, pruning) is `batch_store.BatchStore`'s; this module decides when.
"""

from __future__ import annotations

import logging
import queue
import sqlite3
import threading
import time
from collections.abc import Callable

from ..db import changes
from .batch_store import BatchStore, Message, Routed, Stats
from .parse import Router

__all__ = ["BatchWriter", "Message", "Routed", "Stats"]

log = logging.getLogger("leader.ingest")

CHANGES_PRUNE_EVERY = 60.0  # seconds between prunes of the live-updates change log
_NAP = 0.005  # seconds between looks at the queue while a batch gathers


class BatchWriter(BatchStore):
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
        super().__init__(router, changes_keep=changes_keep)
        self.on_commit = on_commit
        self._connect = connect
        self.batch_size = batch_size
        self.flush_interval = flush_interval
        self.retention_days = retention_days
        self.prune_every = prune_every
        self._queue: queue.SimpleQueue[Message | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="ingest-writer", daemon=True)
        self._stopping = threading.Event()

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

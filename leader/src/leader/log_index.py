"""The worker's background filler of the logs' text-search index (leader.db.log_search).

A thread that indexes one small batch per transaction, back to back while there is work (new logs first,
then the backfill of older ones), and otherwise looks again every `every` seconds. Between batches it
yields the write lock for a moment (`pause`), so the ingest's commits interleave with a long backfill
instead of queueing behind it. It runs in the worker only: the migration that made the index stays
instant on a store of millions of logs, and no web request ever waits for indexing.
"""

from __future__ import annotations

import logging
import threading
import time

from .db import connect, log_search

log = logging.getLogger(__name__)

EVERY = 1.0  # seconds between looks when caught up: a new log is searchable within about this
PAUSE = 0.02


def catch_up(db_path: str, batch: int = log_search.BATCH, stop: threading.Event | None = None) -> int:
    """Index batches until nothing is left (or `stop` is set); answers how many logs were indexed."""
    db = connect(db_path, "NORMAL")  # losing the last batch at a power cut only means indexing it again
    total = 0
    try:
        while stop is None or not stop.is_set():
            seen, added = log_search.fill_batch(db, batch)
            total += added
            if not seen:
                break
            if stop is not None:
                stop.wait(PAUSE)
    finally:
        db.close()
    return total


class Filler:
    def __init__(self, db_path: str, every: float = EVERY, batch: int = log_search.BATCH) -> None:
        self.db_path, self.every, self.batch = db_path, every, batch
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="log-index", daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            started = time.monotonic()
            try:
                added = catch_up(self.db_path, self.batch, self._stop)
                if added > 1000:
                    log.info("log search: indexed %d logs in %.1f s", added, time.monotonic() - started)
            except Exception:
                log.exception("log search indexing failed; trying again later")
            self._stop.wait(self.every)

    def start(self) -> Filler:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

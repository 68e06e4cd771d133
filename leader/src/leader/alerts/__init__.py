"""Alerts, run by the leader worker: evaluate conditions on a period, record each alert once, deliver it.

    alerts = leader.alerts.start(app, ingest_stats)   # two daemon threads; never blocks the caller
    alerts.stop()

* The evaluator thread (every `ALERTS_INTERVAL` s) reads the store (`conditions`), opens an alert for each
  new condition, resolves the open ones whose condition cleared, records failed/partial operations as
  one-off alerts, and copies the ingest's counters into the store for /metrics.
* The delivery thread claims due deliveries from the store and sends each on a small pool
  (`ALERTS_DELIVERY_THREADS`) with a timeout (`ALERTS_SEND_TIMEOUT`), so a hanging webhook holds one pool
  thread for at most that long and never the evaluator. Failures retry with backoff (see `delivery`).
Deliveries live in the store: a worker restart sends what was pending or half-sent (at-least-once).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from flask import Flask

from ..db import alert_rules as rules_db
from ..db import alerts as alerts_db
from ..db import connect, now
from ..db import metric_values as values_db
from ..db import settings as settings_db
from . import conditions, delivery

log = logging.getLogger("leader.alerts")

OPERATIONS_MARK = "alerts.operations_since"  # finished_at of the last operation looked at
_INGEST = {  # Ingest.stats() key -> metric_values name (counters grow by the delta since last time)
    "committed": "ingest_messages",
    "batches": "ingest_batches",
    "malformed": "ingest_malformed",
    "unknown": "ingest_unknown",
    "db_errors": "ingest_db_errors",
}


class Alerts:
    def __init__(self, app: Flask, ingest_stats: Callable[[], dict[str, Any] | None] | None = None) -> None:
        self.cfg = {k: v for k, v in app.config.items() if k.startswith("ALERTS_")}  # see leader.config
        self.database = app.config["DATABASE"]
        self.ingest_stats = ingest_stats
        self._last_ingest: dict[str, float] = {}
        self._stopping = threading.Event()
        self._wake = threading.Event()
        threads = int(self.cfg["ALERTS_DELIVERY_THREADS"])
        self._pool = ThreadPoolExecutor(threads, thread_name_prefix="alert-send")
        self._slots = threading.Semaphore(threads)
        self._threads = [
            threading.Thread(target=self._evaluate_loop, name="alerts-evaluate", daemon=True),
            threading.Thread(target=self._deliver_loop, name="alerts-deliver", daemon=True),
        ]

    def start(self) -> Alerts:
        for t in self._threads:
            t.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        self._stopping.set()
        self._wake.set()
        for t in self._threads:
            t.join(timeout)
        self._pool.shutdown(wait=False, cancel_futures=True)

    # -- evaluation ---------------------------------------------------------------------------------
    def _evaluate_loop(self) -> None:
        db = connect(self.database)
        try:
            while not self._stopping.is_set():
                try:
                    if self.evaluate(db):
                        self._wake.set()
                except Exception:  # the next round tries again; a bug must not end the thread
                    log.exception("alerts: evaluation failed")
                self._stopping.wait(float(self.cfg["ALERTS_INTERVAL"]))
        finally:
            db.close()

    def evaluate(self, db: Any) -> int:
        """One round; answers how many alerts it fired or resolved."""
        self._copy_ingest_stats(db)
        t = time.time()
        builtin = rules_db.builtin(db)
        rules = rules_db.list_rules(db, enabled_only=True)
        found = conditions.current(db, builtin, rules, self.database, t)
        targets = rules_db.targets(db)
        changed = 0
        for key, c in found.items():
            if alerts_db.fire(db, key, c.kind, c.severity, c.summary, c.details, targets) is not None:
                log.warning("alert: %s", c.summary)
                changed += 1
        for key in alerts_db.open_keys(db) - found.keys():
            if alerts_db.resolve(db, key, targets) is not None:
                log.info("alert resolved: %s", key)
                changed += 1
        changed += self._operations(db, builtin.operation_failed, targets)
        values_db.add(db, "alerts_evaluations", 1.0)
        return changed

    def _operations(self, db: Any, enabled: bool, targets: list[tuple[str, str]]) -> int:
        """Failed and partial operations since the mark, as one-off alerts (deduplicated by key)."""
        mark = settings_db.get(db, OPERATIONS_MARK)
        if mark is None:  # first run: alert on what fails from now on, not on the whole history
            since = now()
            old = db.execute("SELECT id FROM operations WHERE finished_at >= ?", (since,)).fetchall()
            settings_db.put(db, OPERATIONS_MARK, {"since": since, "history": [r[0] for r in old]})
            return 0
        since, history = mark["since"], set(mark.get("history", []))
        events = conditions.failed_operations(db, since) if enabled else []
        fired = 0
        for key, c in events:
            if c.details["operation"] in history:  # finished in the very millisecond of the first run
                continue
            if alerts_db.fire(db, key, c.kind, c.severity, c.summary, c.details, targets, event=True):
                log.warning("alert: %s", c.summary)
                fired += 1
        row = db.execute("SELECT max(finished_at) FROM operations WHERE finished_at > ?", (since,)).fetchone()
        if row and row[0]:
            # (history stays: the few operations of the first round's millisecond, usually none)
            settings_db.put(db, OPERATIONS_MARK, {"since": row[0], "history": sorted(history)})
        return fired

    def _copy_ingest_stats(self, db: Any) -> None:
        stats = self.ingest_stats() if self.ingest_stats else None
        if not stats:
            return
        for key, name in _INGEST.items():
            value = float(stats.get(key, 0))
            delta = value - self._last_ingest.get(key, 0.0)
            self._last_ingest[key] = value
            if delta > 0:
                values_db.add(db, name, delta)
        values_db.put_many(
            db,
            {
                "ingest_connected": 1.0 if stats.get("connected") else 0.0,
                "ingest_lag_seconds": float(stats.get("lag_seconds", 0.0)),
            },
        )

    # -- delivery -----------------------------------------------------------------------------------
    def _deliver_loop(self) -> None:
        db = connect(self.database)
        try:
            alerts_db.requeue_sending(db)
            while not self._stopping.is_set():
                self._wake.clear()
                try:
                    self._send_due(db)
                    due = alerts_db.next_due(db)
                except Exception:
                    log.exception("alerts: cannot read due deliveries")
                    due = None
                wait = 1.0 if due is None else min(1.0, max(0.0, due - time.time()))
                self._wake.wait(max(wait, 0.05))
        finally:
            db.close()

    def _send_due(self, db: Any) -> None:
        free = 0
        while self._slots.acquire(blocking=False):
            free += 1
        if free == 0:
            return
        due = alerts_db.claim_due(db, limit=free)
        for _ in range(free - len(due)):
            self._slots.release()
        for item in due:
            self._pool.submit(self._send_one, item)

    def _send_one(self, due: alerts_db.Due) -> None:
        db = connect(self.database)
        try:
            delivery.attempt(db, self.cfg, due)
        finally:
            db.close()
            self._slots.release()
            self._wake.set()  # a retry may be due soon, and a slot is free


def start(app: Flask, ingest_stats: Callable[[], dict[str, Any] | None] | None = None) -> Alerts:
    return Alerts(app, ingest_stats).start()


def send_test(database: str, cfg: dict[str, Any]) -> int:
    """Record a test alert and try each channel once now, in parallel (retries, if any, are the worker's)."""
    db = connect(database)
    try:
        alert_id = alerts_db.fire(
            db,
            f"test:{time.time_ns()}",
            "test",
            "warning",
            "Test alert from the Pioreactor leader",
            {"note": "Sent from the alert settings; nothing is wrong."},
            rules_db.targets(db),
            event=True,
        )
        assert alert_id is not None
        due = alerts_db.claim_due(db, alert_id=alert_id)
    finally:
        db.close()
    if due:
        with ThreadPoolExecutor(len(due)) as pool:
            list(pool.map(lambda d: _attempt_own(cfg, database, d), due))
    return alert_id


def _attempt_own(cfg: dict[str, Any], database: str, due: alerts_db.Due) -> None:
    db = connect(database)
    try:
        delivery.attempt(db, cfg, due)
    finally:
        db.close()

"""Gauges and counters computed from the store at scrape time (a prometheus_client custom collector).

Reading the store makes them the same whichever process answers, and costs nothing between scrapes.
Counters kept by the worker (ingest, schedules) come from `metric_values`; the rest from the tables.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import time
from collections.abc import Iterator

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric, SummaryMetricFamily

from .db import connect
from .db import metric_values as values_db

RUNNING_STATES = ("init", "ready", "sleeping")

# metric_values name -> (exposed name, help, counter?)
WORKER_VALUES = {
    "ingest_messages": ("pioreactor_ingest_messages", "MQTT messages committed to the store", True),
    "ingest_batches": ("pioreactor_ingest_batches", "Ingest transactions committed", True),
    "ingest_malformed": ("pioreactor_ingest_malformed_messages", "Messages the ingest could not parse", True),
    "ingest_unknown": (
        "pioreactor_ingest_unknown_messages",
        "Messages on topics the ingest has no use for",
        True,
    ),
    "ingest_db_errors": ("pioreactor_ingest_db_errors", "Ingest commits that failed and were retried", True),
    "ingest_lag_seconds": (
        "pioreactor_ingest_lag_seconds",
        "Seconds between receiving the oldest message of the last batch and its commit",
        False,
    ),
    "ingest_connected": (
        "pioreactor_ingest_connected",
        "1 while the ingest is connected to the broker",
        False,
    ),
    "alerts_evaluations": ("pioreactor_alert_evaluations", "Alert evaluation rounds run by the worker", True),
}


class StoreCollector:
    def __init__(self, database: str) -> None:
        self.database = database

    def describe(self) -> list[Metric]:
        return []  # collected on demand; nothing to check at registration

    def collect(self) -> Iterator[Metric]:
        db = connect(self.database)
        try:
            yield from self._units(db)
            yield from self._operations(db)
            yield from self._jobs(db)
            yield from self._worker_values(db)
            yield from self._alerts(db)
        finally:
            db.close()
        yield from self._store_size()

    def _units(self, db: sqlite3.Connection) -> Iterator[Metric]:
        m = GaugeMetricFamily("pioreactor_units", "Active units by presence", labels=["presence"])
        counts = dict.fromkeys(("online", "offline", "lost", "unknown"), 0)
        for status, n in db.execute(
            "SELECT coalesce(p.status, 'unknown'), count(*) FROM units u LEFT JOIN presence p "
            "ON p.unit = u.name WHERE u.removed_at IS NULL AND u.active = 1 GROUP BY 1"
        ):
            counts[status] = counts.get(status, 0) + n
        for status, n in counts.items():
            m.add_metric([status], n)
        yield m
        last = GaugeMetricFamily(
            "pioreactor_ingest_last_message_age_seconds",
            "Seconds since the newest live message from any active unit",
        )
        row = db.execute(
            "SELECT max(p.last_seen) FROM presence p JOIN units u ON u.name = p.unit "
            "WHERE u.removed_at IS NULL AND u.active = 1"
        ).fetchone()
        if row and row[0] is not None:
            last.add_metric([], max(0.0, time.time() - row[0]))
            yield last

    def _operations(self, db: sqlite3.Connection) -> Iterator[Metric]:
        total = CounterMetricFamily(
            "pioreactor_operations", "Operations by kind and outcome (status)", labels=["kind", "status"]
        )
        for kind, status, n in db.execute(
            "SELECT kind, status, count(*) FROM operations GROUP BY kind, status ORDER BY kind, status"
        ):
            total.add_metric([kind, status], n)
        yield total

    def _jobs(self, db: sqlite3.Connection) -> Iterator[Metric]:
        m = GaugeMetricFamily(
            "pioreactor_running_jobs", "Jobs running on active units, by name", labels=["job_name"]
        )
        marks = ",".join("?" * len(RUNNING_STATES))
        for job, n in db.execute(
            "SELECT j.job, count(*) FROM job_states j JOIN units u ON u.name = j.unit "  # noqa: S608
            f"WHERE u.removed_at IS NULL AND j.state IN ({marks}) GROUP BY j.job ORDER BY j.job",
            RUNNING_STATES,
        ):
            m.add_metric([job], n)
        yield m
        lost = GaugeMetricFamily(
            "pioreactor_lost_jobs", "Jobs whose last state is `lost`, by name", labels=["job_name"]
        )
        for job, n in db.execute(
            "SELECT j.job, count(*) FROM job_states j JOIN units u ON u.name = j.unit "
            "WHERE u.removed_at IS NULL AND j.state = 'lost' GROUP BY j.job ORDER BY j.job"
        ):
            lost.add_metric([job], n)
        yield lost

    def _worker_values(self, db: sqlite3.Connection) -> Iterator[Metric]:
        stored = {name: value for name, labels, value, _at in values_db.read_all(db) if not labels}
        for key, (name, text, counter) in WORKER_VALUES.items():
            if key not in stored:
                continue
            family = CounterMetricFamily(name, text) if counter else GaugeMetricFamily(name, text)
            family.add_metric([], stored[key])
            yield family
        firings = stored.get("schedule_firings", 0.0)
        yield CounterMetricFamily("pioreactor_schedule_firings", "Schedule firings", value=firings)
        yield SummaryMetricFamily(
            "pioreactor_schedule_lateness_seconds",
            "Seconds a schedule fired after its planned time",
            count_value=int(firings),
            sum_value=stored.get("schedule_lateness_seconds_sum", 0.0),
        )

    def _alerts(self, db: sqlite3.Connection) -> Iterator[Metric]:
        open_ = GaugeMetricFamily("pioreactor_alerts_open", "Open alerts by kind", labels=["kind"])
        for kind, n in db.execute(
            "SELECT kind, count(*) FROM alerts WHERE resolved_at IS NULL GROUP BY kind ORDER BY kind"
        ):
            open_.add_metric([kind], n)
        yield open_
        fired = CounterMetricFamily("pioreactor_alerts_fired", "Alerts recorded, by kind", labels=["kind"])
        for kind, n in db.execute("SELECT kind, count(*) FROM alerts GROUP BY kind ORDER BY kind"):
            fired.add_metric([kind], n)
        yield fired
        deliveries = GaugeMetricFamily(
            "pioreactor_alert_deliveries",
            "Alert deliveries by channel and status",
            labels=["channel", "status"],
        )
        for channel, status, n in db.execute(
            "SELECT channel, status, count(*) FROM alert_deliveries GROUP BY 1, 2 ORDER BY 1, 2"
        ):
            deliveries.add_metric([channel, status], n)
        yield deliveries

    def _store_size(self) -> Iterator[Metric]:
        size = GaugeMetricFamily(
            "pioreactor_store_size_bytes", "Size of the leader's store files", labels=["file"]
        )
        for suffix, label in (("", "db"), ("-wal", "wal")):
            with contextlib.suppress(OSError):
                size.add_metric([label], os.path.getsize(self.database + suffix))
        yield size
        try:
            usage = shutil.disk_usage(os.path.dirname(os.path.abspath(self.database)))
        except OSError:
            return
        free = GaugeMetricFamily("pioreactor_store_disk_free_bytes", "Free bytes on the store's disk")
        free.add_metric([], usage.free)
        yield free
        total = GaugeMetricFamily("pioreactor_store_disk_size_bytes", "Size of the store's disk")
        total.add_metric([], usage.total)
        yield total

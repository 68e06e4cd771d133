"""`GET /metrics`: the leader in Prometheus text format (names start with `pioreactor_`).

Two sources, each correct whichever gunicorn worker answers the scrape:
* request counts and latency by route (Flask endpoint name, never the raw path) are counted in the process
  that served the request; under gunicorn prometheus_client's multiprocess mode adds up every worker's
  (PROMETHEUS_MULTIPROC_DIR, set and cleaned at start by deploy/leader/gunicorn.conf.py, whose `child_exit`
  hook marks dead workers);
* everything else is read from the store at scrape time (`leader.metrics_store.StoreCollector`): units by
  presence, operations, running jobs, ingest and schedule counters the worker keeps there, alerts, store size.

Credentials as for reads (`Authorization: Bearer <api token>`, role viewer) unless the setting
`METRICS_PUBLIC` is true. The worker's schedules call `schedule_fired(lateness_s)` once per firing.
"""

from __future__ import annotations

import os
import sqlite3
import time

from flask import Flask, Response, current_app, g, has_app_context, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.multiprocess import MultiProcessCollector

from . import auth
from .db import connect
from .db import metric_values as values_db
from .metrics_store import StoreCollector

disable_created_metrics()  # `_created` series double the answer and no dashboard reads them

# Request metrics live in a registry of their own: in multiprocess mode they are read back from the
# worker files instead, and the default registry's process/platform collectors stay out of the answer.
LOCAL = CollectorRegistry(auto_describe=True)
REQUESTS = Counter(
    "pioreactor_http_requests",
    "HTTP requests answered by the leader's web processes, by route (endpoint name), method and status",
    ["endpoint", "method", "status"],
    registry=LOCAL,
)
LATENCY = Histogram(
    "pioreactor_http_request_duration_seconds",
    "Time to answer an HTTP request, by route (endpoint name)",
    ["endpoint"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
    registry=LOCAL,
)
BY_PROCESS = Gauge(
    "pioreactor_http_worker_requests",
    "Requests served by each live web worker process since it started (multiprocess: one series per pid)",
    registry=LOCAL,
    multiprocess_mode="liveall",
)

_database: str | None = None  # the app's store, for schedule_fired() outside an app context


def multiprocess_dir() -> str | None:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


def _start() -> None:
    g.metrics_t0 = time.perf_counter()


def _observe(response: Response) -> Response:
    t0 = g.pop("metrics_t0", None)
    if t0 is not None:
        endpoint = request.endpoint or "unmatched"  # a 404 has no endpoint: never the raw path
        REQUESTS.labels(endpoint, request.method, str(response.status_code)).inc()
        LATENCY.labels(endpoint).observe(time.perf_counter() - t0)
        BY_PROCESS.inc()
    return response


def metrics_view() -> Response:
    registry = CollectorRegistry(auto_describe=False)
    mp_dir = multiprocess_dir()
    if mp_dir:
        MultiProcessCollector(registry, path=mp_dir)
    else:
        registry.register(_Local())
    registry.register(StoreCollector(current_app.config["DATABASE"]))
    return Response(generate_latest(registry), mimetype=CONTENT_TYPE_LATEST)


class _Local:
    """This process's request metrics (single-process servers, tests)."""

    def collect(self):
        return LOCAL.collect()


def schedule_fired(lateness_s: float, db: sqlite3.Connection | None = None) -> None:
    """Count one schedule firing, `lateness_s` after its planned time (for the worker's schedules)."""
    own = None
    if db is None:
        path = current_app.config["DATABASE"] if has_app_context() else _database
        if path is None:
            return
        db = own = connect(path)
    try:
        values_db.add(db, "schedule_firings", 1.0)
        values_db.add(db, "schedule_lateness_seconds_sum", max(0.0, float(lateness_s)))
        values_db.put_many(db, {"schedule_last_lateness_seconds": max(0.0, float(lateness_s))})
    finally:
        if own is not None:
            own.close()


def init_app(app: Flask) -> None:
    global _database
    _database = app.config["DATABASE"]
    app.before_request(_start)
    app.after_request(_observe)
    # credentials as for any read, unless the lab chose METRICS_PUBLIC (checked by auth's one before_request)
    view = (
        auth.public(_public_view) if app.config["METRICS_PUBLIC"] else auth.requires("viewer")(metrics_view)
    )
    app.add_url_rule("/metrics", "metrics", view, methods=["GET"])


def _public_view() -> Response:
    return metrics_view()

"""Text search over logs: the background filler (new logs, the backfill of older ones, deletions) and
GET /api/logs with `q`, `after`, `since`/`until`, and every query parameter refused with a 400 naming it."""

from __future__ import annotations

import sqlite3
import threading
import time

import pytest
from flask import Flask
from flask.testing import FlaskClient

from leader import log_index
from leader.db import connect, log_search
from leader.db import logs as logs_db
from leader.ingest.parse import Router
from tests.ingest.test_api import ingest, log

T0 = 1_790_000_000.0
WORDS = ("stirring", "heater", "pump", "optics")


def catch_up(app: Flask, batch: int = log_search.BATCH) -> int:
    return log_index.catch_up(app.config["DATABASE"], batch)


def search(api: FlaskClient, **query: object) -> dict:
    r = api.get("/api/logs", query_string=query)
    assert r.status_code == 200, r.get_json()
    return r.get_json()


def test_new_logs_are_searchable_once_indexed(app: Flask, api: FlaskClient, router: Router) -> None:
    msgs = [log("u1", "e1", "info", f"{WORDS[i % 4]} step {i}", T0 + i) for i in range(40)]
    ingest(app, router, msgs)
    assert search(api, q="heater")["logs"] == []  # written, not indexed yet
    assert search(api, q="heater")["indexing"] is True
    assert catch_up(app, batch=7) == 40
    found = search(api, q="heater")
    assert [e["message"] for e in found["logs"]] == [f"heater step {i}" for i in range(37, 0, -4)]
    assert found["indexing"] is False
    # words are all required, in any order; a prefix with *; case and accents do not matter
    assert [e["message"] for e in search(api, q="STEP 13 Pump")["logs"]] == []
    assert [e["message"] for e in search(api, q="13 step")["logs"]] == ["heater step 13"]
    assert len(search(api, q="opt*")["logs"]) == 10
    assert search(api, q='"step 2"')["logs"][0]["message"] == "pump step 2"
    # FTS5's own syntax is text here, never an operator or an error
    assert search(api, q="heater OR pump")["logs"] == []
    assert search(api, q="NEAR(heater")["logs"] == []


def test_backfill_indexes_logs_older_than_the_index(app: Flask, api: FlaskClient, router: Router) -> None:
    ingest(app, router, [log("u1", "e1", "info", f"old heater {i}", T0 + i) for i in range(30)])
    db = connect(app.config["DATABASE"])
    try:  # as if these logs were stored before migration 0140: not queued, below the high-water mark
        db.execute("DELETE FROM log_search_pending")
        db.execute(
            "UPDATE log_search_state SET backfill_ts = ?, backfill_dedupe = 0", (int(T0 * 1000) + 30_000,)
        )
    finally:
        db.close()
    assert search(api, q="heater")["indexing"] is True
    ingest(app, router, [log("u1", "e1", "info", "new heater", T0 + 100)])
    db = connect(app.config["DATABASE"])
    try:
        assert log_search.fill_batch(db, 10) == (1, 1)  # the new log first
        assert [e["message"] for e in search(api, q="heater")["logs"]] == ["new heater"]
        assert log_search.fill_batch(db, 10) == (10, 10)  # then the backfill, newest first
        assert search(api, q="heater")["logs"][-1]["message"] == "old heater 20"
    finally:
        db.close()
    assert catch_up(app, 10) == 20
    assert len(search(api, q="heater", limit=100)["logs"]) == 31
    assert catch_up(app) == 0  # nothing twice


def test_deleted_logs_leave_the_index(app: Flask, api: FlaskClient, router: Router) -> None:
    ingest(app, router, [log("u1", "e1", "info", f"pump {i}", T0 + i) for i in range(5)])
    catch_up(app)
    db = connect(app.config["DATABASE"])
    try:
        assert logs_db.prune(db, T0 + 2) == 2
        assert db.execute("SELECT count(*) FROM log_search_rows").fetchone()[0] == 3
        rows = db.execute("SELECT rowid FROM log_search WHERE log_search MATCH 'pump'").fetchall()
        assert len(rows) == 3  # the contentless index forgot the deleted texts too
    finally:
        db.close()
    assert [e["message"] for e in search(api, q="pump")["logs"]] == ["pump 4", "pump 3", "pump 2"]


def test_search_pages_filters_and_time_range(app: Flask, api: FlaskClient, router: Router) -> None:
    msgs = [
        log(
            f"u{i % 2}", "e1" if i % 3 else "e2", "warning" if i % 5 == 0 else "info", f"pump run {i}", T0 + i
        )
        for i in range(120)
    ]
    ingest(app, router, msgs)
    catch_up(app)
    seen, cursor = [], None
    while True:
        page = search(api, q="pump", unit="u1", limit=7, **({"before": cursor} if cursor else {}))
        seen += [e["message"] for e in page["logs"]]
        cursor = page["next"]
        if cursor is None:
            break
    assert seen == [f"pump run {i}" for i in range(119, -1, -1) if i % 2 == 1]
    warn = search(api, q="run", experiment="e2", min_level="warning", limit=1000)["logs"]
    assert [e["message"] for e in warn] == [f"pump run {i}" for i in range(105, -1, -15)]
    since = time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(T0 + 10))
    until = time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(T0 + 20))
    for q in ("pump", None):
        ranged = search(api, since=since, until=until, **({"q": q} if q else {}))["logs"]
        assert [e["message"] for e in ranged] == [f"pump run {i}" for i in range(19, 9, -1)]


def test_after_follows_new_logs_oldest_first(app: Flask, api: FlaskClient, router: Router) -> None:
    ingest(app, router, [log("u1", "e1", "info", f"line {i}", T0 + i) for i in range(5)])
    first = search(api, limit=3)
    assert [e["message"] for e in first["logs"]] == ["line 4", "line 3", "line 2"]
    tail = first["newest"]
    assert search(api, after=tail) == {"logs": [], "next": None, "newest": tail, "indexing": None}
    ingest(app, router, [log("u1", "e1", "info", f"line {i}", T0 + i) for i in range(5, 9)])
    page = search(api, after=tail, limit=3)
    assert [e["message"] for e in page["logs"]] == ["line 5", "line 6", "line 7"] and page["next"]
    page = search(api, after=page["newest"])
    assert [e["message"] for e in page["logs"]] == ["line 8"] and page["next"] is None
    catch_up(app)  # with a search too
    assert [e["message"] for e in search(api, q="line", after=tail)["logs"]] == [
        "line 5",
        "line 6",
        "line 7",
        "line 8",
    ]


def test_filler_thread_catches_up_in_the_background(app: Flask, api: FlaskClient, router: Router) -> None:
    filler = log_index.Filler(app.config["DATABASE"], every=0.05, batch=50).start()
    try:
        ingest(app, router, [log("u2", "e1", "error", f"optics fault {i}", T0 + i) for i in range(300)])
        deadline = time.monotonic() + 30
        while len(search(api, q="fault", limit=1000)["logs"]) < 300:
            assert time.monotonic() < deadline, "the filler did not catch up"
            threading.Event().wait(0.05)
    finally:
        filler.stop()
    assert search(api, q="fault")["indexing"] is False


@pytest.mark.parametrize(
    ("query", "named"),
    [
        ("before=!!notacursor", "before"),
        ("after=!!notacursor", "after"),
        # a cursor that decodes but would not bind to SQLite (schemathesis found these a 500)
        ("before=OTk5OTk5OTk5OTk5OTk5OTk5OTk5Ojk5", "before"),
        ("after=LTk5OTk5OTk5OTk5OTk5OTk5OTk5OjA", "after"),
        ("before=MTox&after=MTox", "after"),
        ("min_level=loud", "min_level"),
        ("min_level=WARNING", "min_level"),  # the documented enum is lowercase
        ("limit=-1", "limit"),
        ("limit=0", "limit"),
        ("limit=1.5", "limit"),
        ("limit=5000", "limit"),
        ("since=yesterday", "since"),
        ("since=2026-01-01T00:00:00", "since"),  # no offset: ambiguous
        ("until=-5", "until"),
        ("since=2026-01-02T00:00:00Z&until=2026-01-01T00:00:00Z", "since"),
        ("q=%21%21%21", "q"),
        ("q=" + "x" * 201, "q"),
        ("unit=" + "x" * 300, "unit"),
        ("limit=5&limit=6", "limit"),
    ],
)
def test_every_bad_parameter_is_a_400_naming_it(api: FlaskClient, query: str, named: str) -> None:
    r = api.get(f"/api/logs?{query}")
    assert r.status_code == 400, r.get_json()
    body = r.get_json()
    assert set(body) == {"error", "message"} and f"{named}`" in body["message"]


def test_route_declares_every_parameter(app: Flask) -> None:
    from leader.api.logs import ROUTES

    declared = set(ROUTES[0].query or {})
    assert declared == {
        "experiment",
        "unit",
        "job",
        "min_level",
        "before",
        "after",
        "since",
        "until",
        "q",
        "limit",
    }
    assert ROUTES[0].query["limit"] == {"type": "integer", "minimum": 1, "maximum": logs_db.MAX_LIMIT}


def test_fts5_is_available() -> None:
    sqlite3.connect(":memory:").execute("CREATE VIRTUAL TABLE t USING fts5(x)")

"""GET /api/logs/events: the logs' live tail as server-sent events, with GET /api/logs's filters (Flask test
client; logs stored by the ingest's own writer and as manual notes)."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from leader import log_index, setup
from leader.db import connect, log_feed
from leader.db import logs as logs_db
from leader.ingest.writer import Message
from tests.leader.conftest import api_client, ingest_in_order, make_app
from tests.leader.test_api import _sse

T = 1_790_000_000.0


@pytest.fixture
def app(tmp_path: Path) -> Flask:
    app = make_app(tmp_path, SSE_MAX_SECONDS=0.3, SSE_POLL=0.02)
    db = connect(app.config["DATABASE"])
    try:
        setup.complete(db, "test")
    finally:
        db.close()
    return app


@pytest.fixture
def api(app: Flask) -> FlaskClient:
    return api_client(app, "viewer")


def _log(unit: str, exp: str, level: str, message: str, ts: str = "2026-09-21T14:13:20.000Z") -> Message:
    body = {"message": message, "level": level.upper(), "task": "stirring", "timestamp": ts}
    return Message(f"pioreactor/{unit}/{exp}/logs/app/{level}", json.dumps(body).encode(), T)


def _note(app: Flask, exp: str, message: str, level: str = "info", unit: str | None = None) -> None:
    db = connect(app.config["DATABASE"])
    try:
        logs_db.add_note(db, exp, message, level, unit, "tester")
    finally:
        db.close()


def _latest(app: Flask) -> int:
    db = connect(app.config["DATABASE"])
    try:
        return log_feed.latest(db)
    finally:
        db.close()


def _events(api: FlaskClient, query: str = "", **headers: str) -> list[dict[str, Any]]:
    """The `log` and `reset` events of one (short) stream: {"id", "event", "data"}."""
    r = api.get(f"/api/logs/events{query}", headers=headers)
    assert r.status_code == 200 and r.mimetype == "text/event-stream", r.data
    assert r.headers["Cache-Control"] == "no-cache"
    return [
        {"id": int(e["id"]) if "id" in e else None, "event": e["event"], "data": json.loads(e["data"])}
        for e in _sse(r.get_data(as_text=True))
        if "event" in e
    ]


def _messages(events: list[dict[str, Any]]) -> list[str]:
    return [e["data"]["message"] for e in events]


def test_rows_as_the_list_answers_them_in_stored_order_and_resume(app: Flask, api: FlaskClient) -> None:
    start = _latest(app)
    ingest_in_order(
        api,
        [
            _log("pio0", "exp", "info", "first"),
            _log("pio1", "exp", "warning", "second"),
            _log("pio0", "exp", "info", "first"),  # a redelivery: stored once, sent once
            # stored later but stamped earlier (a unit's queue after a reconnect): still a new line
            _log("pio2", "exp", "error", "late", ts="2026-09-21T14:00:00.000Z"),
            _log("pio0", "$experiment", "info", "no experiment"),
        ],
    )
    _note(app, "exp", "a note")
    events = _events(api, f"?after={start}")
    assert [e["event"] for e in events] == ["log"] * 5
    assert _messages(events) == ["first", "second", "late", "no experiment", "a note"]
    ids = [e["id"] for e in events]
    assert ids == sorted(set(ids)) and ids[0] > start
    # each event's data is the row of GET /api/logs, as it answers it
    listed = {e["message"]: e for e in api.get("/api/logs?limit=1000").json["logs"]}
    assert all(e["data"] == listed[e["data"]["message"]] for e in events)
    late = events[2]["data"]
    assert late["level"] == "error" and late["timestamp"].startswith("2026-09-21T14:00")

    # resuming after any event gives exactly the rest: nothing lost, nothing twice
    for k in range(len(events)):
        assert _events(api, **{"Last-Event-ID": str(ids[k])}) == events[k + 1 :]
    # the browser's header wins over the page's `?after=`
    assert _events(api, f"?after={start}", **{"Last-Event-ID": str(ids[2])}) == events[3:]


def test_filters_are_those_of_the_list(app: Flask, api: FlaskClient) -> None:
    start = _latest(app)
    ingest_in_order(
        api,
        [
            _log("pio0", "exp", "debug", "pump primed"),
            _log("pio1", "exp", "warning", "heater failed to reach target"),
            _log("pio1", "other", "error", "heater off"),
            _log("pio0", "exp", "info", "heater on", ts="2026-09-21T15:00:00.000Z"),
        ],
    )
    _note(app, "exp", "Pümp cleaned", unit=None)

    def got(query: str) -> list[str]:
        return _messages(_events(api, f"?after={start}&{query}"))

    assert got("experiment=other") == ["heater off"]
    assert got("unit=pio1") == ["heater failed to reach target", "heater off"]
    assert got("job=stirring&experiment=exp") == ["pump primed", "heater failed to reach target", "heater on"]
    assert got("min_level=warning") == ["heater failed to reach target", "heater off"]
    assert got("since=2026-09-21T16:30:00%2B02:00") == ["heater on", "Pümp cleaned"]  # 14:30Z
    assert got("until=2026-09-21T14:30:00Z") == ["pump primed", "heater failed to reach target", "heater off"]
    # text search matches as the page's search does: every word, a prefix, diacritics folded
    assert got("q=heater") == ["heater failed to reach target", "heater off", "heater on"]
    assert got("q=heater+of*") == ["heater off"]
    assert got('q="reach target"&unit=pio1') == ["heater failed to reach target"]
    assert got("q=pump") == ["pump primed", "Pümp cleaned"]
    assert got("q=nothing") == []
    assert got("q=++") == got("")  # blank: no search, as on the list
    log_index.catch_up(app.config["DATABASE"])
    for q in ("heater", "heater+of*", "pump", "%22reach+target%22", "failed+off"):
        listed = api.get(f"/api/logs?q={q}").json["logs"]
        assert sorted(got(f"q={q}")) == sorted(e["message"] for e in listed), q


def test_without_a_cursor_the_stream_starts_now_and_follows(app: Flask, api: FlaskClient) -> None:
    app.config.update(SSE_MAX_SECONDS=10)
    _note(app, "exp", "before the stream")  # not sent
    r = api.get("/api/logs/events?experiment=exp", buffered=False)
    chunks: Iterator[bytes] = iter(r.response)
    assert next(chunks) == b"retry: 2000\n\n"
    _note(app, "other", "not this experiment")
    ingest_in_order(api, [_log("pio0", "exp", "info", "after the stream")])
    got: list[dict[str, str]] = []
    deadline = time.monotonic() + 10
    while not got and time.monotonic() < deadline:
        got += [e for e in _sse(next(chunks).decode()) if "event" in e]
    r.close()
    assert [(e["event"], json.loads(e["data"])["message"]) for e in got] == [("log", "after the stream")]


def test_pruned_numbers_say_reset(app: Flask, api: FlaskClient) -> None:
    start = _latest(app)
    for i in range(4):
        _note(app, "exp", f"line {i}")
    db = connect(app.config["DATABASE"])
    try:
        assert log_feed.prune(db, keep=2) >= 2
        kept = log_feed.oldest(db)
    finally:
        db.close()
    events = _events(api, **{"Last-Event-ID": str(start)})
    assert events[0]["event"] == "reset" and events[0]["id"] is None
    assert [e["id"] for e in events[1:]] == [kept, kept + 1]
    assert _messages(events[1:]) == ["line 2", "line 3"]


def test_the_ingest_prunes_the_numbers_with_the_change_log(
    app: Flask, api: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(log_feed, "KEEP", 3)
    writer = ingest_in_order(api, [_log("pio0", "exp", "info", f"line {i}") for i in range(5)])
    db = connect(app.config["DATABASE"])
    try:
        top = log_feed.latest(db)
        writer.prune_changes(db)
        assert (log_feed.oldest(db), log_feed.latest(db)) == (top - 2, top)
    finally:
        db.close()


def test_bad_filters_are_refused_naming_the_field_as_the_list_does(app: Flask, api: FlaskClient) -> None:
    for query, field in (
        ("min_level=loud", "?min_level"),
        ("since=soon", "?since"),
        ("until=2026-09-21T14:30:00", "?until"),  # no offset
        ("unit=" + "a" * 64, "?unit"),
        ("q=" + "x" * 201, "?q"),
        ("q=**", "?q"),
        ("experiment=a&experiment=b", "?experiment"),
        ("since=2026-09-22T00:00:00Z&until=2026-09-21T00:00:00Z", "?since"),
        ("after=x", "Last-Event-ID"),
    ):
        r = api.get(f"/api/logs/events?{query}")
        assert r.status_code == 400 and field in r.json["message"], (query, r.json)
        listed = api.get(f"/api/logs?{query}")
        if field != "Last-Event-ID":  # the list's `after` is its own cursor
            assert listed.status_code == 400 and listed.json["message"] == r.json["message"], query
    for bad in ("abc", "-1", "1.5"):
        r = api.get("/api/logs/events", headers={"Last-Event-ID": bad})
        assert r.status_code == 400 and "Last-Event-ID" in r.json["message"]


def test_roles_as_the_list(app: Flask) -> None:
    assert app.test_client().get("/api/logs/events").status_code == 401
    assert app.test_client().get("/api/logs").status_code == 401
    assert api_client(app, "viewer").get("/api/logs/events?after=0").status_code == 200


def test_the_logs_page_hands_its_stream_the_last_log_it_read(app: Flask, api: FlaskClient) -> None:
    """What is stored between the page's render and its stream's connection is sent, and nothing on the page
    is sent again."""
    _note(app, "exp", "on the page")
    html = api.get("/logs?experiment=exp&min_level=info").get_data(as_text=True)
    url = re.search(r'data-tail="([^"]+)"', html).group(1).replace("&amp;", "&")  # type: ignore[union-attr]
    assert url.startswith("/api/logs/events?") and "experiment=exp" in url and "min_level=info" in url
    assert f"after={_latest(app)}" in url
    _note(app, "exp", "before it connects")
    _note(app, "exp", "too quiet", level="debug")
    assert _messages(_events(api, url.removeprefix("/api/logs/events"))) == ["before it connects"]

"""Open alerts on every page: the navigation's count rendered by the server, and the `alert` events of
GET /api/events that keep it live (static/js/alerts_nav.js), for everyone who may read alerts."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from leader.db import alerts as alerts_db
from leader.db import changes, connect
from tests.leader.conftest import api_client, make_app
from tests.leader.test_api import _sse

pytestmark = pytest.mark.usefixtures("setup_done")


@pytest.fixture
def app(tmp_path: Path) -> Flask:
    return make_app(tmp_path, SSE_MAX_SECONDS=0.3, SSE_POLL=0.02)


def _db(app: Flask) -> Any:
    return connect(app.config["DATABASE"])


def _fire(app: Flask, key: str, severity: str = "warning", *, one_off: bool = False) -> int:
    db = _db(app)
    try:
        found = alerts_db.fire(
            db, key, "unit_offline", severity, f"<b>{key}</b> is offline", {}, [], event=one_off
        )
        assert found is not None
        return found
    finally:
        db.close()


def _resolve(app: Flask, key: str) -> None:
    db = _db(app)
    try:
        assert alerts_db.resolve(db, key, []) is not None
    finally:
        db.close()


def _latest(app: Flask) -> int:
    db = _db(app)
    try:
        return changes.latest(db)
    finally:
        db.close()


def _nav_count(html: str) -> tuple[int, bool]:
    """The count on the Alerts link and whether it is hidden (the menu button carries the same)."""
    found = re.findall(r'<span data-alerts-count="(\d+)" (hidden)?', html)
    assert len(found) == 2, found  # the phone menu's button, and the Alerts link
    assert len(set(found)) == 1, found
    return int(found[0][0]), found[0][1] == "hidden"


def test_every_page_shows_the_open_alerts_count(app: Flask) -> None:
    api = api_client(app)
    html = api.get("/").get_data(as_text=True)
    assert _nav_count(html) == (0, True)
    _fire(app, "unit_offline:pio1")
    _fire(app, "unit_offline:pio2", "critical")
    _fire(app, "operation:x", one_off=True)  # resolved at once: never counted
    for path in ("/", "/units", "/experiments", "/logs", "/alerts"):
        html = api.get(path).get_data(as_text=True)
        assert _nav_count(html) == (2, False), path
        assert "(2 open alerts)" in html and "js/alerts_nav.js" in html
    _resolve(app, "unit_offline:pio1")
    html = api.get("/").get_data(as_text=True)
    assert _nav_count(html) == (1, False) and "(1 open alert)" in html
    # the stream that keeps it live starts at the change the page shows
    assert f'<meta name="cluster-events" content="/api/events?after={_latest(app)}">' in html
    assert '<div class="toasts" data-toasts data-alerts-url="/alerts" role="status"' in html
    # partial templates (htmx polls them) do not ask for the count
    assert "data-alerts-count" not in api.get("/experiments?part=rows").get_data(as_text=True)


def test_the_count_is_one_read_of_an_existing_index(app: Flask) -> None:
    db = _db(app)
    try:
        plan = " ".join(
            str(r[-1])
            for r in db.execute("EXPLAIN QUERY PLAN SELECT count(*) FROM alerts WHERE resolved_at IS NULL")
        )
    finally:
        db.close()
    assert "alerts_open" in plan, plan


def _alert_events(api: FlaskClient, **headers: str) -> list[dict[str, Any]]:
    r = api.get("/api/events", headers=headers)
    assert r.status_code == 200 and r.mimetype == "text/event-stream", r.data
    return [
        {"id": int(e["id"]), "event": e["event"], "data": json.loads(e["data"])}
        for e in _sse(r.get_data(as_text=True))
        if "id" in e
    ]


def test_alerts_opening_and_resolving_are_events_of_the_cluster_stream(app: Flask) -> None:
    api = api_client(app)
    before = _latest(app)
    a = _fire(app, "unit_offline:pio1")
    assert api.post("/api/experiments", json={"name": "exp"}).status_code == 201
    b = _fire(app, "operation:x", "critical", one_off=True)
    c = _fire(app, "unit_offline:pio2")
    _resolve(app, "unit_offline:pio1")

    events = _alert_events(api, **{"Last-Event-ID": str(before)})
    got = [(e["event"], e["data"].get("id"), e["data"].get("state", e["data"].get("change"))) for e in events]
    assert got == [
        ("alert", a, "open"),
        ("experiment", None, "created"),
        ("alert", b, "resolved"),  # a one-off alert is recorded resolved at once
        ("alert", c, "open"),
        ("alert", a, "resolved"),
    ]
    ids = [e["id"] for e in events]
    assert ids == sorted(set(ids)) and ids[0] > before
    first = events[0]["data"]
    # the alerts API's answer of the alert, with what happened and how many are open when sent
    assert first == {**api.get(f"/api/alerts/{a}").json, "state": "open", "open_count": 1}
    assert first["summary"] == "<b>unit_offline:pio1</b> is offline" and first["severity"] == "warning"
    assert [e["data"].get("open_count") for e in events if e["event"] == "alert"] == [1, 1, 1, 1]

    resumed = _alert_events(api, **{"Last-Event-ID": str(ids[2])})
    assert [(e["data"]["id"], e["data"]["state"]) for e in resumed] == [(c, "open"), (a, "resolved")]
    assert _alert_events(api, **{"Last-Event-ID": str(ids[-1])}) == []
    # ?after= is the same cursor (the page's <meta> uses it)
    r = api.get(f"/api/events?after={ids[3]}")
    assert [json.loads(e["data"])["state"] for e in _sse(r.get_data(as_text=True)) if "id" in e] == [
        "resolved"
    ]
    # an experiment's own stream never carries them
    r = api.get("/api/experiments/exp/events", headers={"Last-Event-ID": "0"})
    assert "event: alert" not in r.get_data(as_text=True)


def test_viewers_see_the_count_and_the_events_and_signed_out_pages_nothing(app: Flask) -> None:
    _fire(app, "unit_offline:pio1")
    viewer = api_client(app, "viewer")
    html = viewer.get("/").get_data(as_text=True)
    assert _nav_count(html) == (1, False)
    assert viewer.get("/api/alerts?state=open").status_code == 200  # the same role reads the alerts
    before = _latest(app) - 1
    events = _alert_events(viewer, **{"Last-Event-ID": str(before)})
    assert [(e["event"], e["data"]["state"]) for e in events] == [("alert", "open")]

    anonymous = app.test_client()
    login = anonymous.get("/login").get_data(as_text=True)
    assert "data-alerts-count" not in login and "cluster-events" not in login and "alerts_nav.js" not in login
    assert anonymous.get("/api/events").status_code == 401


def test_the_alerts_page_gives_its_live_list_the_server_row_and_counts(app: Flask) -> None:
    """/alerts draws live rows (static/js/alerts_live.js) from the server's own row macro, for viewers too."""
    viewer = api_client(app, "viewer")
    html = viewer.get("/alerts").get_data(as_text=True)
    assert "js/alerts_live.js" in html and "js/alerts.js" not in html  # the settings' module: admins'
    assert "<tr data-alerts-empty>" in html and "0 open · 0 resolved" in html
    template = re.search(r"<template data-alert-row>(.*?)</template>", html, re.S)
    assert template is not None
    for cell in ("state", "summary", "kind", "fired", "resolved", "deliveries"):
        assert f'data-cell="{cell}"' in template[1], cell
    assert 'data-label="Fired"' in template[1] and '<ul class="plain deliveries">' in template[1]

    _fire(app, "operation:x", one_off=True)
    opened = _fire(app, "unit_offline:pio1")
    html = viewer.get("/alerts").get_data(as_text=True)
    assert "<tr data-alerts-empty>" not in html and "1 open · 1 resolved" in html
    rows = re.findall(r'<tr data-alert="(\d+)" data-alert-kind="\w+" data-alert-state="(\w+)">', html)
    assert rows[0] == (str(opened), "open") and rows[1][1] == "resolved"  # open first
    assert "&lt;b&gt;unit_offline:pio1&lt;/b&gt; is offline" in html  # text, not markup

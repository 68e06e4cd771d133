"""/logs: filters, text search and the time range in the lab's zone, rendered by the server; unit text as
text."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from leader import log_index, setup
from leader.db import connect
from leader.db import logs as logs_db
from tests.leader.conftest import api_client, make_app


@pytest.fixture
def app(tmp_path: Path) -> Flask:
    app = make_app(tmp_path, TIMEZONE="Europe/Paris")
    db = connect(app.config["DATABASE"])
    try:
        setup.complete(db, "test")
        for exp, text in (("e1", "pump <b>primed</b>"), ("e2", "heater on"), ("e1", "heater off")):
            logs_db.add_note(db, exp, text, "info", "unit1", "tester")
    finally:
        db.close()
    log_index.catch_up(app.config["DATABASE"])
    return app


@pytest.fixture
def api(app: Flask) -> FlaskClient:
    return api_client(app)


def messages(html: str) -> list[str]:
    return re.findall(r'<td class="detail">(.*?)</td>', html)


def test_logs_page_lists_filters_and_searches(api: FlaskClient) -> None:
    html = api.get("/logs").get_data(as_text=True)
    # notes written in one millisecond have no order among themselves: compare as sets
    assert set(messages(html)) == {"heater off", "heater on", "pump &lt;b&gt;primed&lt;/b&gt;"}
    assert "<b>primed" not in html  # a unit's text is text
    assert 'data-tail="/api/logs/events?after=3"' in html and "Europe/Paris" in html
    assert messages(api.get("/logs?q=heater&experiment=e1").get_data(as_text=True)) == ["heater off"]
    assert messages(api.get("/logs?q=primed").get_data(as_text=True)) == ["pump &lt;b&gt;primed&lt;/b&gt;"]
    none = api.get("/logs?q=nothing").get_data(as_text=True)
    assert messages(none) == [] and "No log matches" in none


def test_time_range_is_the_labs_wall_clock(api: FlaskClient) -> None:
    html = api.get("/logs?since=2000-01-01T00:00&until=2999-01-01T10:00").get_data(as_text=True)
    assert len(messages(html)) == 3
    tail = r'data-tail="/api/logs/events\?since=2000-01-01T00%3A00%3A00%2B01%3A00&amp;until=2999'
    assert re.search(tail, html)
    bad = api.get("/logs?since=2026-01-02T00:00&until=2026-01-01T00:00")
    assert bad.status_code == 200 and "There is a problem" in bad.get_data(as_text=True)
    assert "Invalid time at `since`" in api.get("/logs?since=soon").get_data(as_text=True)


def test_older_pages_follow_the_cursor(app: Flask, api: FlaskClient) -> None:
    db = connect(app.config["DATABASE"])
    try:
        for i in range(120):
            logs_db.add_note(db, "e3", f"line {i}", "info", None, "tester")
    finally:
        db.close()
    html = api.get("/logs?experiment=e3").get_data(as_text=True)
    assert len(messages(html)) == 100
    older = re.search(r'<a href="([^"]+)" rel="next">', html).group(1).replace("&amp;", "&")
    rest = api.get(older).get_data(as_text=True)
    assert len(messages(rest)) == 20 and "data-tail=" not in rest
    assert set(messages(html)) | set(messages(rest)) == {f"line {i}" for i in range(120)}

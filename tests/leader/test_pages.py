"""Pages without a browser: headers, hashed assets, error pages by path, credentials, operation retry."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient

from leader.db import connect
from leader.db import operations as ops_db
from leader.pages import shell

PAGES = ["/", "/fragments/dashboard", "/units", "/operations"]


pytestmark = pytest.mark.usefixtures("setup_done")


def test_pages_need_credentials_like_the_api(client: FlaskClient) -> None:
    for path in PAGES:
        r = client.get(path)
        assert r.status_code == 302 and "/login?next=" in r.headers["Location"], path


def test_every_page_renders_with_strict_headers(api: FlaskClient) -> None:
    assert api.post("/api/units", json={"name": "unit1"}).status_code == 201
    for path in [*PAGES, "/units/unit1"]:
        r = api.get(path)
        assert r.status_code == 200, (path, r.data[:500])
        assert r.headers["Content-Security-Policy"] == shell.CSP
        assert "'unsafe-inline'" not in shell.CSP and "frame-ancestors 'none'" in shell.CSP
        assert r.headers["X-Content-Type-Options"] == "nosniff"
        assert r.headers["Referrer-Policy"] == "same-origin"
        assert b"<script>" not in r.data and b" onclick=" not in r.data and b" style=" not in r.data
    assert api.get("/api/units").headers["Content-Security-Policy"] == shell.CSP


def test_assets_carry_a_content_hash_and_are_cached_long(api: FlaskClient) -> None:
    html = api.get("/").get_data(as_text=True)
    urls = re.findall(r'(?:src|href)="(/static/[^"]+)"', html)
    assert any("css/app.css?v=" in u for u in urls) and any("vendor/htmx.min.js?v=" in u for u in urls)
    for url in urls:
        assert re.search(r"\?v=[0-9a-f]{16}$", url), url
        r = api.get(url)
        assert r.status_code == 200, url
        assert r.headers["Cache-Control"] == "public, max-age=31536000, immutable"


def test_errors_are_pages_off_api_and_json_on_it(api: FlaskClient) -> None:
    page = api.get("/units/nobody")
    assert page.status_code == 404 and page.mimetype == "text/html"
    assert b"Page not found" in page.data and b"nobody" in page.data
    assert api.get("/no/such/page").mimetype == "text/html"
    r = api.get("/api/units/nobody")
    assert r.status_code == 404 and r.json == {"error": "not_found", "message": "No unit named 'nobody'."}


def test_unit_text_is_escaped_by_the_server(app: Flask, api: FlaskClient) -> None:
    assert api.post("/api/units", json={"name": "unit1"}).status_code == 201
    db = connect(app.config["DATABASE"])
    try:
        op = ops_db.create(db, "job.start", {}, ["unit1"], "api")
        ops_db.add_line(db, op.id, "info", '<script>alert(1)</script><img src=x onerror="alert(2)">')
    finally:
        db.close()
    html = api.get(f"/operations/{op.id}").get_data(as_text=True)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=" in html
    assert "<img src=x" not in html


def test_retry_starts_the_units_that_did_not_finish(app: Flask, api: FlaskClient) -> None:
    for name in ("unit1", "unit2", "unit3"):
        assert api.post("/api/units", json={"name": name}).status_code == 201
    db = connect(app.config["DATABASE"])
    try:
        params = {"experiment": "exp", "job": "stirring", "options": {}}
        partial = ops_db.create(db, "job.start", params, ["unit1", "unit2", "unit3"], "api")
        ops_db.set_step(db, partial.id, "unit1", "ok", "ready")
        ops_db.finish(db, partial.id, "partial", "timed out")
        done = ops_db.create(db, "job.start", params, ["unit1"], "api")
        ops_db.set_step(db, done.id, "unit1", "ok", "ready")
        ops_db.finish(db, done.id, "succeeded")
    finally:
        db.close()
    r = api.post(f"/api/operations/{partial.id}/retry")
    assert r.status_code == 202, r.json
    retried = r.json["operation"]
    assert r.headers["Location"] == f"/api/operations/{retried['id']}"
    assert retried["kind"] == "job.start" and retried["params"] == params
    assert retried["targets"] == ["unit2", "unit3"]
    r = api.post(f"/api/operations/{done.id}/retry")
    assert r.status_code == 409 and r.json["error"] == "conflict"
    assert api.post("/api/operations/nope/retry").status_code == 404


def test_operations_filter_by_kind_status_and_who_asked(app: Flask, api: FlaskClient) -> None:
    db = connect(app.config["DATABASE"])
    try:
        a = ops_db.create(db, "job.start", {}, ["unit1"], "api", created_by="user:ada")
        b = ops_db.create(db, "job.stop", {}, ["unit1"], "api", created_by="user:bob")
        ops_db.finish(db, b.id, "failed")
    finally:
        db.close()
    page = api.get("/operations?who=user:ada").get_data(as_text=True)
    assert f"/operations/{a.id}" in page and f"/operations/{b.id}" not in page
    page = api.get("/operations?status=failed&kind=job.stop").get_data(as_text=True)
    assert f"/operations/{b.id}" in page and f"/operations/{a.id}" not in page
    assert '<option value="user:bob"' in api.get("/operations").get_data(as_text=True)


def test_figures_per_kind_and_per_day_in_the_lab_zone(app: Flask) -> None:
    from datetime import UTC, datetime, timedelta
    from zoneinfo import ZoneInfo

    from leader.db import activity

    db = connect(app.config["DATABASE"])
    try:
        ok = ops_db.create(db, "job.start", {}, ["unit1"], "api")
        ops_db.finish(db, ok.id, "succeeded")
        bad = ops_db.create(db, "job.start", {}, ["unit1"], "api")
        ops_db.finish(db, bad.id, "failed")
        old = ops_db.create(db, "job.stop", {}, ["unit1"], "api")
        ops_db.finish(db, old.id, "succeeded")
        two_days_ago = (datetime.now(UTC) - timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
        db.execute("UPDATE operations SET created_at = ? WHERE id = ?", (two_days_ago, old.id))
        ops_db.create(db, "job.stop", {}, ["unit1"], "api")  # queued: counted in totals, not in rates

        figures = {f.kind: f for f in activity.kind_figures(db, "2000-01-01")}
        assert (figures["job.start"].total, figures["job.start"].success_rate) == (2, 0.5)
        assert (figures["job.stop"].total, figures["job.stop"].success_rate) == (2, 1.0)
        assert [f.kind for f in activity.kind_figures(db, "2999-01-01")] == []

        for zone in ("UTC", "Pacific/Kiritimati", "Pacific/Pago_Pago"):  # UTC+14 and UTC-11
            days = activity.per_day(db, "2000-01-01", ZoneInfo(zone), 5)
            today = datetime.now(ZoneInfo(zone)).date()
            assert [d for d, _, _ in days] == [today - timedelta(days=i) for i in range(4, -1, -1)]
            assert days[-1][1:] == (1, 1), zone
            assert sum(ok for _, ok, _ in days[:-1]) == 1, zone
    finally:
        db.close()


def test_unit_page_activity_follows_new_operations_and_logs(app: Flask, api: FlaskClient) -> None:
    """The unit page's recent logs and operations are a fragment htmx polls with the version it shows: the
    same version answers 204 (nothing swapped), a new operation or log a new fragment with a new version."""
    assert api.post("/api/units", json={"name": "unit1"}).status_code == 201
    page = api.get("/units/unit1").get_data(as_text=True)
    found = re.search(r'hx-get="(/units/unit1/activity\?v=([0-9a-f]+))"', page)
    assert found, page
    poll, version = found.group(1), found.group(2)
    assert "No operations yet." in page
    unchanged = api.get(poll)
    assert unchanged.status_code == 204 and unchanged.data == b""

    db = connect(app.config["DATABASE"])
    try:
        op = ops_db.create(db, "unit.self_test", {}, ["unit1"], "api")
    finally:
        db.close()
    r = api.get(poll)
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    assert f"/operations/{op.id}" in html and "unit.self_test" in html
    again = re.search(r'hx-get="/units/unit1/activity\?v=([0-9a-f]+)"', html)
    assert again and again.group(1) != version
    assert api.get(f"/units/unit1/activity?v={again.group(1)}").status_code == 204

    note = {"message": "<b>vial</b> swapped", "unit": "unit1"}
    assert api.post("/api/experiments", json={"name": "exp"}).status_code == 201
    assert api.put("/api/experiments/exp/units", json={"units": ["unit1"]}).status_code == 200
    assert api.post("/api/experiments/exp/logs", json=note).status_code == 201
    html = api.get(f"/units/unit1/activity?v={again.group(1)}").get_data(as_text=True)
    assert "&lt;b&gt;vial&lt;/b&gt; swapped" in html  # text from people and units stays text
    assert api.get("/units/nobody/activity").status_code == 404

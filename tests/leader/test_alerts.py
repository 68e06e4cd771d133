"""Alerts on a real store with the worker's alert threads running in the test process, delivering to local
webhook and SMTP receivers. (tests/cluster/test_alerts_cluster.py does the same with real processes.)"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from devcluster.procs import wait_for
from leader import alerts
from leader.db import connect
from leader.db import operations as ops_db
from leader.db import presence as presence_db
from leader.db import readings as readings_db
from leader.db import units as units_db
from tests.alert_receivers import SmtpServer, Webhook
from tests.leader.conftest import api_client, make_app

FAST = {
    "ALERTS_INTERVAL": 0.05,
    "ALERTS_RETRY_BASE": 0.1,
    "ALERTS_RETRY_MAX": 0.2,
    "ALERTS_SEND_TIMEOUT": 1.0,
    "ALERTS_MAX_ATTEMPTS": 4,
}


@pytest.fixture
def app(tmp_path: Path) -> Flask:
    return make_app(tmp_path, **FAST)


@pytest.fixture
def api(app: Flask) -> FlaskClient:
    client = api_client(app)
    assert client.post("/api/experiments", json={"name": "exp"}).status_code == 201
    return client


@pytest.fixture
def running(app: Flask) -> Iterator[alerts.Alerts]:
    a = alerts.start(app)
    try:
        yield a
    finally:
        a.stop()


def _alerts(api: FlaskClient, **query: str) -> list[dict[str, Any]]:
    r = api.get("/api/alerts", query_string=query)
    assert r.status_code == 200, r.json
    return list(r.json)


def test_rule_validation_names_the_field(api: FlaskClient) -> None:
    good = {"experiment": "exp", "series": "temperature", "op": ">", "value": 40, "hold_seconds": 5}
    for change, where in (
        ({"series": "nope"}, "$.series"),
        ({"value": "hot"}, "$.value"),
        ({"value": None}, "$.value"),
        ({"op": ">="}, "$.op"),
        ({"experiment": "other"}, "$.experiment"),
        ({"hold_seconds": -1}, "$.hold_seconds"),
    ):
        r = api.post("/api/alerts/rules", json={**good, **change})
        status = 409 if change == {"experiment": "other"} else 400  # well-formed, naming no experiment
        assert r.status_code == status and where in r.json["message"], (change, r.json)
    assert api.get("/api/alerts/rules").json["thresholds"] == []  # nothing half-done

    created = api.post("/api/alerts/rules", json=good)
    assert created.status_code == 201 and created.headers["Location"].endswith(f"/{created.json['id']}")
    rule_id = created.json["id"]
    assert api.patch(f"/api/alerts/rules/{rule_id}", json={"series": "x"}).status_code == 400
    patched = api.patch(f"/api/alerts/rules/{rule_id}", json={"value": 41.5, "op": "<"}).json
    assert (patched["value"], patched["op"], patched["series"]) == (41.5, "<", "temperature")
    assert api.delete(f"/api/alerts/rules/{rule_id}").status_code == 204
    assert api.delete(f"/api/alerts/rules/{rule_id}").status_code == 404

    builtin = api.patch("/api/alerts/rules/builtin", json={"unit_offline_after_s": 30, "job_lost": False})
    assert builtin.status_code == 200
    assert api.get("/api/alerts/rules").json["builtin"]["unit_offline_after_s"] == 30
    assert api.patch("/api/alerts/rules/builtin", json={"disk_used_max_percent": 101}).status_code == 400


def test_channels_never_answer_the_password(api: FlaskClient) -> None:
    bad = api.put("/api/alerts/channels", json={"webhooks": [{"url": "file:///etc/passwd"}]})
    assert bad.status_code == 400 and "$.webhooks[0].url" in bad.json["message"]
    # what the pattern lets through but a URL parser refuses: 400 naming the field, never a 500 later
    for url in ("http://[bad", "http://host:99999/"):
        bad = api.put("/api/alerts/channels", json={"webhooks": [{"url": url}]})
        assert bad.status_code == 400 and "$.webhooks[0].url" in bad.json["message"], url
    email = {"host": "smtp.example", "port": 587, "from": "lab@example.org", "to": ["a@example.org"]}
    r = api.put("/api/alerts/channels", json={"email": {**email, "password": "s3cret-pw"}})
    assert r.status_code == 200 and r.json["email"]["password_set"] is True
    assert b"s3cret-pw" not in r.data and b"s3cret-pw" not in api.get("/api/alerts/channels").data
    kept = api.put("/api/alerts/channels", json={"email": {**email, "port": 2525}})  # no password: kept
    assert kept.json["email"]["password_set"] is True and kept.json["email"]["port"] == 2525
    cleared = api.put("/api/alerts/channels", json={"email": {**email, "password": ""}})
    assert cleared.json["email"]["password_set"] is False
    assert api.put("/api/alerts/channels", json={"email": {**email, "to": []}}).status_code == 400


def test_unit_offline_fires_once_delivers_and_resolves(app: Flask, api: FlaskClient) -> None:
    db = connect(app.config["DATABASE"])
    units_db.add(db, "u1", "127.0.0.1", 4999, None)
    api.patch("/api/alerts/rules/builtin", json={"unit_offline_after_s": 1})
    with Webhook() as hook, SmtpServer() as smtp:
        channels = {
            "webhooks": [{"url": hook.url}],
            "email": {"host": "127.0.0.1", "port": smtp.port, "from": "lab@x.org", "to": ["ops@x.org"]},
        }
        assert api.put("/api/alerts/channels", json=channels).status_code == 200
        presence_db.apply_presence(db, [("u1", "lost", time.time() - 0.5, None)])
        a = alerts.start(app)
        try:
            hook.wait_for(lambda b: [x for x in b if x["event"] == "fired"])
            fired = next(b for b in hook.received() if b["event"] == "fired")["alert"]
            assert fired["kind"] == "unit_offline" and fired["details"]["unit"] == "u1"
            wait_for(lambda: smtp.received(), 10, 0.05, "an e-mail")
            mail = smtp.received()[0]
            assert "FIRING" in mail["Subject"] and "u1" in mail["Subject"] and mail["To"] == "ops@x.org"
            rounds = _evaluations(app)
            wait_for(lambda: _evaluations(app) > rounds + 5, 10, 0.05, "more evaluation rounds")
            assert len(_alerts(api, kind="unit_offline")) == 1  # recorded once however long it holds

            presence_db.apply_presence(db, [("u1", "online", time.time(), None)])
            hook.wait_for(lambda b: [x for x in b if x["event"] == "resolved"])
            wait_for(lambda: len(smtp.received()) == 2, 10, 0.05, "the resolved e-mail")
        finally:
            a.stop()
    [alert] = _alerts(api, kind="unit_offline")
    assert alert["resolved_at"] is not None
    assert sorted((d["event"], d["channel"], d["status"]) for d in alert["deliveries"]) == [
        ("fired", "email", "delivered"),
        ("fired", "webhook", "delivered"),
        ("resolved", "email", "delivered"),
        ("resolved", "webhook", "delivered"),
    ]
    assert all(len(d["attempts"]) == 1 and d["attempts"][0]["ok"] for d in alert["deliveries"])
    assert b"/hook" not in api.get("/api/alerts").data  # a webhook's path may be its secret
    db.close()


def _evaluations(app: Flask) -> float:
    db = connect(app.config["DATABASE"])
    try:
        row = db.execute("SELECT value FROM metric_values WHERE name = 'alerts_evaluations'").fetchone()
        return float(row[0]) if row else 0.0
    finally:
        db.close()


def test_failing_webhook_is_retried_with_backoff_and_each_attempt_recorded(
    app: Flask, api: FlaskClient, running: alerts.Alerts
) -> None:
    with Webhook() as hook:
        hook.status = 500
        api.put("/api/alerts/channels", json={"webhooks": [{"url": hook.url}]})
        sent = api.post("/api/alerts/test")
        assert sent.status_code == 201
        [delivery] = sent.json["deliveries"]
        assert delivery["status"] == "pending" and delivery["attempts"][0]["reason"].startswith("HTTP 500")
        hook.wait_for(lambda b: len(b) >= 3)  # the worker's retries
        hook.status = 200

        def delivered() -> dict[str, Any] | None:
            [d] = api.get(f"/api/alerts/{sent.json['id']}").json["deliveries"]
            return d if d["status"] == "delivered" else None

        d = wait_for(delivered, 10, 0.05, "delivery after retries")
    codes = [a["status_code"] for a in d["attempts"]]
    assert codes[-1] == 200 and set(codes[:-1]) == {500} and len(codes) >= 3
    assert len(hook.received()) == len(codes)  # every attempt recorded, none invented


def test_delivery_gives_up_after_max_attempts_and_smtp_refusal_is_recorded(
    app: Flask, api: FlaskClient, running: alerts.Alerts
) -> None:
    with SmtpServer() as smtp:
        smtp.refuse = True
        email = {"host": "127.0.0.1", "port": smtp.port, "from": "lab@x.org", "to": ["ops@x.org"]}
        api.put("/api/alerts/channels", json={"email": email})
        alert_id = api.post("/api/alerts/test").json["id"]

        def failed() -> dict[str, Any] | None:
            [d] = api.get(f"/api/alerts/{alert_id}").json["deliveries"]
            return d if d["status"] == "failed" else None

        d = wait_for(failed, 15, 0.05, "delivery to fail for good")
    assert len(d["attempts"]) == FAST["ALERTS_MAX_ATTEMPTS"]
    assert all(a["status_code"] == 554 and "no thanks" in a["reason"] for a in d["attempts"])


def test_a_hanging_webhook_blocks_neither_evaluation_nor_other_deliveries(tmp_path: Path) -> None:
    # two senders for six deliveries, three of which hang: the stuck webhook may hold only one of them
    app = make_app(tmp_path, **{**FAST, "ALERTS_SEND_TIMEOUT": 4.0, "ALERTS_DELIVERY_THREADS": 2})
    api = api_client(app)
    with Webhook() as stuck, Webhook() as good:
        stuck.hang = True
        api.put("/api/alerts/channels", json={"webhooks": [{"url": stuck.url}, {"url": good.url}]})
        db = connect(app.config["DATABASE"])
        for name in ("h1", "h2", "h3"):
            units_db.add(db, name, "127.0.0.1", 4999, None)
        api.patch("/api/alerts/rules/builtin", json={"unit_offline_after_s": 0.1})
        presence_db.apply_presence(db, [(n, "offline", time.time() - 1, None) for n in ("h1", "h2", "h3")])
        running = alerts.start(app)
        try:
            good.wait_for(lambda b: len(b) == 3, 10)
            stuck.wait_for(lambda b: len(b) >= 1, 10)
            rounds = _evaluations(app)
            wait_for(
                lambda: _evaluations(app) > rounds + 3, 20, 0.05, "evaluation rounds while a webhook hangs"
            )
            # all of that while the stuck webhook's first attempts were still waiting for their timeout
            assert not _stuck_reasons(api, stuck), "the good webhook waited for the stuck one"
            reasons = wait_for(lambda: _stuck_reasons(api, stuck), 15, 0.05, "the stuck attempts to time out")
            assert all("timed out" in r for r in reasons), reasons
        finally:
            running.stop()
            db.close()


def _stuck_reasons(api: FlaskClient, stuck: Webhook) -> list[str]:
    return [
        at["reason"]
        for a in _alerts(api, kind="unit_offline")
        for d in a["deliveries"]
        if d["target"] == stuck.shown
        for at in d["attempts"]
    ]


def test_threshold_fires_after_its_hold_time_only(app: Flask, api: FlaskClient) -> None:
    rule = {"experiment": "exp", "series": "temperature", "op": ">", "value": 40, "hold_seconds": 30}
    rule_id = api.post("/api/alerts/rules", json=rule).json["id"]
    db = connect(app.config["DATABASE"])
    now = time.time()
    # u1: fine but for one noisy reading 50 s ago
    rows = [("temperature", "exp", "u1", now - 100 + i * 5, 45.0 if i == 10 else 37.0) for i in range(21)]
    rows += [("temperature", "exp", "u2", now - 100 + i * 5, 41.0 + i) for i in range(21)]  # hot for 100 s
    rows += [("temperature", "exp", "u3", now - 20 + i * 5, 42.0) for i in range(4)]  # hot for 20 s < hold
    readings_db.insert_many(db, [r for r in rows if r[3] <= now])
    checker = alerts.Alerts(app)
    checker.evaluate(db)
    checker.evaluate(db)
    found = _alerts(api, kind="threshold")
    assert [a["key"] for a in found] == [f"threshold:{rule_id}:u2"]
    assert found[0]["details"]["value"] >= 41 and found[0]["resolved_at"] is None
    readings_db.insert_many(db, [("temperature", "exp", "u2", time.time() + 0.01, 39.0)])
    checker.evaluate(db)
    assert _alerts(api, kind="threshold")[0]["resolved_at"] is not None
    db.close()


def test_failed_and_partial_operations_alert_once(app: Flask, api: FlaskClient) -> None:
    db = connect(app.config["DATABASE"])
    checker = alerts.Alerts(app)
    old = ops_db.create(db, "job.start", {}, ["u1"], "api")
    ops_db.finish(db, old.id, "failed")
    # as if it finished in the very millisecond of the first round
    db.execute("UPDATE operations SET finished_at = '9999-01-01T00:00:00.000Z' WHERE id = ?", (old.id,))
    checker.evaluate(db)  # the first round only marks where to start: history does not alert
    op = ops_db.create(db, "job.start", {}, ["u1", "u2"], "api")
    ops_db.set_step(db, op.id, "u2", "failed", "refused")
    ops_db.finish(db, op.id, "partial")
    checker.evaluate(db)
    checker.evaluate(db)
    [alert] = _alerts(api, kind="operation_failed")
    assert alert["key"] == f"operation:{op.id}" and "u2" in alert["summary"]
    db.close()


def test_a_delivery_half_sent_by_a_stopped_worker_is_sent_again(app: Flask, api: FlaskClient) -> None:
    with Webhook() as hook:
        api.put("/api/alerts/channels", json={"webhooks": [{"url": hook.url}]})
        db = connect(app.config["DATABASE"])
        from leader.db import alerts as alerts_db

        alert_id = alerts_db.fire(
            db, "k", "test", "warning", "half sent", {}, [("webhook", hook.url)], event=True
        )
        assert alerts_db.claim_due(db) and not alerts_db.claim_due(db)  # `sending`: taken by a worker…
        a = alerts.start(app)  # …that died; the next worker's delivery thread sends it (at-least-once)
        try:
            hook.wait_for(lambda b: len(b) == 1)
        finally:
            a.stop()
        db.close()
    [d] = api.get(f"/api/alerts/{alert_id}").json["deliveries"]
    assert d["status"] == "delivered" and len(d["attempts"]) == 1


def test_lost_job_stalled_ingest_and_full_disk(app: Flask, api: FlaskClient) -> None:
    db = connect(app.config["DATABASE"])
    units_db.add(db, "u1", "127.0.0.1", 4999, None)
    presence_db.apply_presence(db, [("u1", "online", time.time() - 100, None)])
    presence_db.touch(db, {"u1": time.time() - 50})
    db.execute(
        "INSERT INTO job_states (unit, experiment, job, state, updated_at) VALUES ('u1', 'exp', 'stirring', "
        "'lost', ?)",
        (time.time(),),
    )
    api.patch(
        "/api/alerts/rules/builtin",
        json={"ingest_stalled_after_s": 30, "disk_used_max_percent": 0.0001, "unit_offline_after_s": 0},
    )
    checker = alerts.Alerts(app)
    checker.evaluate(db)
    open_ = {a["kind"]: a for a in _alerts(api, state="open")}
    assert set(open_) == {"job_lost", "ingest_stalled", "disk_full"}
    assert open_["job_lost"]["key"] == "job_lost:u1/exp/stirring"
    assert open_["ingest_stalled"]["details"]["online_units"] == 1

    db.execute("UPDATE job_states SET state = 'ready' WHERE job = 'stirring'")
    presence_db.touch(db, {"u1": time.time()})
    api.patch("/api/alerts/rules/builtin", json={"disk_used_max_percent": 100})
    checker.evaluate(db)
    assert _alerts(api, state="open") == []
    assert {a["kind"] for a in _alerts(api, state="resolved")} == {"job_lost", "ingest_stalled", "disk_full"}
    db.close()

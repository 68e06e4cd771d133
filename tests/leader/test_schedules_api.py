"""/api/schedules: validation (400 naming the field, nothing stored), answers, run now, history, preview;
firing exactly once per due time, and the worker's scheduler following the store (in this process)."""

from __future__ import annotations

import copy
import itertools
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from flask.testing import FlaskClient

from devcluster.procs import wait_for
from leader import cluster_token
from leader.db import connect
from leader.db import operations as ops_db
from leader.db import schedules as sched_db
from leader.schedules.fire import fire
from leader.schedules.runner import Runner
from tests.leader.conftest import api_client, make_app
from tests.leader.standin import StandIn

EXP = "exp"
GOOD: dict[str, Any] = {
    "name": "morning stirring",
    "trigger": {"type": "cron", "expression": "0 8 * * 1-5"},
    "action": {"kind": "job.start", "experiment": EXP, "job": "stirring", "options": {"target_rpm": 400}},
}


@pytest.fixture
def lab(tmp_path: Path) -> Iterator[tuple[Flask, FlaskClient, StandIn]]:
    """An app (operations run inside the request) with one stand-in agent assigned to `exp`."""
    app = make_app(tmp_path, HUEY_IMMEDIATE=True, TIMEZONE="Europe/Berlin", SCHEDULE_POLL=0.1)
    agent = StandIn("unit1", cluster_token.read(app.config["CLUSTER_TOKEN_FILE"])).start()
    api = api_client(app)
    assert (
        api.post("/api/units", json={"name": "unit1", "address": "127.0.0.1", "port": agent.port}).status_code
        == 201
    )
    assert api.post("/api/experiments", json={"name": EXP}).status_code == 201
    assert api.put(f"/api/experiments/{EXP}/units", json={"units": ["unit1"]}).status_code == 200
    yield app, api, agent
    agent.stop()


def with_(path: str, value: Any) -> dict[str, Any]:
    body = copy.deepcopy(GOOD)
    *parents, last = path.split(".")
    node = body
    for p in parents:
        node = node[p]
    node[last] = value
    return body


def test_create_answers_the_designed_shape(lab: tuple[Flask, FlaskClient, StandIn]) -> None:
    _, api, _ = lab
    r = api.post("/api/schedules", json=GOOD)
    assert r.status_code == 201, r.json
    s = r.json
    assert r.headers["Location"] == f"/api/schedules/{s['id']}"
    assert {"id", "name", "trigger", "action", "enabled", "next_run_at", "last_run"} <= set(s)
    assert s["trigger"] == {"type": "cron", "expression": "0 8 * * 1-5", "timezone": "Europe/Berlin"}
    assert s["action"]["kind"] == "job.start" and s["action"]["options"] == {"target_rpm": 400}
    assert s["enabled"] is True and s["last_run"] is None
    nxt = datetime.fromisoformat(s["next_run_at"].replace("Z", "+00:00"))
    assert s["next_run_at"].endswith("Z") and nxt > datetime.now(UTC)
    assert nxt.astimezone(ZoneInfo("Europe/Berlin")).strftime("%H:%M %a") in {
        f"08:00 {d}" for d in ("Mon", "Tue", "Wed", "Thu", "Fri")
    }
    assert api.get("/api/schedules").json == [api.get(f"/api/schedules/{s['id']}").json]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (with_("trigger", {"type": "cron", "expression": "0 25 * * *"}), "$.trigger.expression"),
        (with_("trigger", {"type": "cron", "expression": "0 8 * *"}), "$.trigger.expression"),
        (with_("trigger", {"type": "cron", "expression": "0 0 31 2 *"}), "$.trigger.expression"),
        (
            with_("trigger", {"type": "cron", "expression": "* * * * *", "timezone": "Mars/Olympus"}),
            "$.trigger.timezone",
        ),
        (with_("trigger", {"type": "interval", "seconds": 0.5}), "$.trigger.seconds"),
        (
            with_("trigger", {"type": "interval", "seconds": 5, "start": "2026-01-01T00:00:00"}),
            "$.trigger.start",
        ),
        (with_("trigger", {"type": "date", "at": "2020-01-01T00:00:00Z"}), "$.trigger.at"),
        (with_("trigger", {"type": "date", "at": "2099-01-01T00:00:00"}), "$.trigger.at"),
        (with_("trigger", {"type": "weekly"}), "$.trigger.type"),
        (with_("action.kind", "job.explode"), "$.action.kind"),
        (with_("action.experiment", "nope"), "$.action.experiment"),
        (with_("action.job", "stiring"), "$.action.job"),
        (with_("action.units", ["bad unit"]), "$.action.units[0]"),
        (with_("action.options", {"target_rpm": "-x"}), "$.action.options.target_rpm"),
        (
            {
                **GOOD,
                "action": {"kind": "job.settings", "experiment": EXP, "job": "stirring", "settings": {}},
            },
            "$.action.settings",
        ),
        ({**GOOD, "action": {"kind": "export", "experiments": ["nope"]}}, "$.action.experiments[0]"),
        (
            {**GOOD, "action": {"kind": "export", "experiments": [EXP], "datasets": ["x"]}},
            "$.action.datasets[0]",
        ),
        (
            {**GOOD, "action": {"kind": "profile.run", "experiment": "nope", "profile": "p"}},
            "$.action.experiment",
        ),
        ({**GOOD, "name": " "}, "$.name"),
        ({k: v for k, v in GOOD.items() if k != "action"}, "action"),
    ],
)
def test_bad_input_names_the_field_and_stores_nothing(
    lab: tuple[Flask, FlaskClient, StandIn], body: dict[str, Any], field: str
) -> None:
    _, api, _ = lab
    r = api.post("/api/schedules", json=body)
    assert r.status_code == 400, r.json
    unknown = "nope" in str(body) or "stiring" in str(body)  # well-formed, naming what does not exist
    assert (r.json["error"] == "unknown_target") == unknown, r.json
    assert set(r.json) == {"error", "message"} and field in r.json["message"], r.json
    assert api.get("/api/schedules").json == []


def test_patch_validates_what_is_given_and_enable_disable(lab: tuple[Flask, FlaskClient, StandIn]) -> None:
    _, api, _ = lab
    s = api.post("/api/schedules", json=GOOD).json
    r = api.patch(f"/api/schedules/{s['id']}", json={"trigger": {"type": "interval", "seconds": 0}})
    assert r.status_code == 400 and "$.trigger.seconds" in r.json["message"]
    assert api.get(f"/api/schedules/{s['id']}").json == s  # unchanged
    off = api.patch(f"/api/schedules/{s['id']}", json={"enabled": False}).json
    assert off["enabled"] is False and off["next_run_at"] is None
    on = api.patch(f"/api/schedules/{s['id']}", json={"enabled": True, "name": "renamed"}).json
    assert on["enabled"] is True and on["name"] == "renamed" and on["next_run_at"] == s["next_run_at"]
    every = api.patch(f"/api/schedules/{s['id']}", json={"trigger": {"type": "interval", "seconds": 90}}).json
    assert every["trigger"] == {"type": "interval", "seconds": 90.0, "start": None}
    assert api.patch("/api/schedules/999", json={"enabled": False}).status_code == 404
    assert api.delete(f"/api/schedules/{s['id']}").status_code == 204
    assert api.get(f"/api/schedules/{s['id']}").status_code == 404
    assert api.delete(f"/api/schedules/{s['id']}").status_code == 404
    entries = [e for e in api.get("/api/audit").json["entries"] if e["action"] == "schedule.delete"]
    assert [(e["target"], e["detail"]) for e in entries] == [(str(s["id"]), {"name": "renamed"})]


def test_run_now_creates_one_operation_through_the_api_path(lab: tuple[Flask, FlaskClient, StandIn]) -> None:
    app, api, agent = lab
    s = api.post("/api/schedules", json=GOOD).json
    r = api.post(f"/api/schedules/{s['id']}/run")
    assert r.status_code == 202
    op = r.json["operation"]
    assert op["kind"] == "job.start" and op["trigger"] == "schedule" and op["status"] == "succeeded", op
    assert op["targets"] == ["unit1"] and op["params"]["options"] == {"target_rpm": 400}
    assert "stirring" in agent.running
    assert op["requested_by"] == f"schedule:{s['id']}"
    assert "run now by token:" in _lines(app, op["id"])
    again = api.get(f"/api/schedules/{s['id']}").json
    assert again["last_run"]["operation_id"] == op["id"] and again["last_run"]["status"] == "succeeded"
    history = api.get(f"/api/schedules/{s['id']}/history").json["history"]
    assert [(h["manual"], h["operation"]["id"]) for h in history] == [(True, op["id"])]


def _lines(app: Flask, op_id: str) -> str:
    db = connect(app.config["DATABASE"])
    try:
        return "\n".join(line.text for line in ops_db.lines(db, op_id))
    finally:
        db.close()


def test_vanished_target_and_profile_record_a_failed_operation(
    lab: tuple[Flask, FlaskClient, StandIn],
) -> None:
    app, api, _ = lab
    s = api.post("/api/schedules", json=GOOD).json
    profile_run = {**GOOD, "action": {"kind": "profile.run", "experiment": EXP, "profile": "demo"}}
    r = api.post("/api/schedules", json=profile_run)
    assert r.status_code == 400 and "Unknown profile at `$.action.profile`" in r.json["message"]
    demo = (
        'version: "1.0"\nexperiment_profile_name: demo\n'
        "common: {jobs: {stirring: {actions: [{type: start, t: 1h}]}}}\n"
    )
    assert api.put("/api/profiles/demo", json={"yaml": demo}).status_code == 201
    p = api.post("/api/schedules", json=profile_run).json
    op = api.post(f"/api/schedules/{p['id']}/run").json["operation"]
    assert op["kind"] == "profile.run" and op["status"] == "queued" and op["trigger"] == "schedule"
    assert op["requested_by"] == f"schedule:{p['id']}" and [e["action"] for e in op["plan"]] == ["start"]
    assert api.delete("/api/profiles/demo").status_code == 204
    op = api.post(f"/api/schedules/{p['id']}/run").json["operation"]
    assert op["status"] == "failed" and op["kind"] == "profile.run"
    assert "unknown profile at `$.action.profile`: 'demo'" in _lines(app, op["id"])
    assert api.delete(f"/api/experiments/{EXP}/units/unit1").status_code in (200, 204)
    op = api.post(f"/api/schedules/{s['id']}/run").json["operation"]
    assert op["status"] == "failed" and op["steps"] == [] and op["trigger"] == "schedule"
    assert "experiment 'exp' has no active units assigned" in _lines(app, op["id"])
    assert api.get(f"/api/schedules/{s['id']}").json["last_run"]["status"] == "failed"
    # deleting the experiment with its data takes the schedules acting on it: none fires on a new
    # experiment of the same name (archiving it, `?data=keep`, keeps them)
    assert api.delete(f"/api/experiments/{EXP}").status_code in (200, 204)
    assert api.get(f"/api/schedules/{s['id']}").status_code == 404


def test_a_due_time_fires_once(lab: tuple[Flask, FlaskClient, StandIn]) -> None:
    app, api, _agent = lab
    s = api.post("/api/schedules", json=GOOD).json
    due = datetime(2026, 12, 7, 7, 0, tzinfo=UTC)
    with app.app_context():
        first = fire(s["id"], due)
        second = fire(s["id"], due)
    assert first is not None and first.status == "succeeded" and second is None
    history = api.get(f"/api/schedules/{s['id']}/history").json["history"]
    assert [(h["due_at"], h["manual"]) for h in history] == [("2026-12-07T07:00:00.000Z", False)]
    api.patch(f"/api/schedules/{s['id']}", json={"enabled": False})
    with app.app_context():
        assert fire(s["id"], due + timedelta(days=1)) is None  # disabled meanwhile: nothing


def test_runner_follows_the_store_and_fires_on_the_grid(lab: tuple[Flask, FlaskClient, StandIn]) -> None:
    app, api, _ = lab
    runner = Runner(app).start()
    try:
        body = {**GOOD, "trigger": {"type": "interval", "seconds": 1}}
        s = api.post("/api/schedules", json=body).json

        def firings() -> list[str]:
            db = connect(app.config["DATABASE"])
            try:
                return [f.due_at for f in sched_db.history(db, s["id"], limit=500)]
            finally:
                db.close()

        wait_for(lambda: len(firings()) >= 3, 10, 0.05, "three firings")
        api.patch(f"/api/schedules/{s['id']}", json={"enabled": False})
        stopped_at = len(firings())
        time_off = datetime.now(UTC)
        wait_for(lambda: datetime.now(UTC) - time_off > timedelta(seconds=2), 5, 0.1, "two periods")
        assert len(firings()) <= stopped_at + 1  # at most one already in flight when disabled
        dues = sorted(firings())
        created = datetime.fromisoformat(s["created_at"].replace("Z", "+00:00"))
        for i, due in enumerate(dues):
            assert due == (created + timedelta(seconds=i + 1)).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    finally:
        runner.stop()


def test_preview_shows_the_next_five_times(lab: tuple[Flask, FlaskClient, StandIn]) -> None:
    _, api, _ = lab
    r = api.get(
        "/api/schedules/preview", query_string={"expression": "30 2 * * *", "timezone": "Europe/Berlin"}
    )
    assert r.status_code == 200, r.json
    assert r.json["timezone"] == "Europe/Berlin" and len(r.json["next"]) == len(r.json["local"]) == 5
    assert all(t.endswith("Z") for t in r.json["next"])
    assert all(t[11:16] in ("02:30", "03:00") for t in r.json["local"])
    default = api.get("/api/schedules/preview", query_string={"expression": "@daily"}).json
    assert default["timezone"] == "Europe/Berlin"
    bad = api.get("/api/schedules/preview", query_string={"expression": "0 8 * * 9"})
    assert bad.status_code == 400 and "?expression" in bad.json["message"]
    bad = api.get("/api/schedules/preview", query_string={"expression": "@daily", "timezone": "Nowhere"})
    assert bad.status_code == 400 and "?timezone" in bad.json["message"]


def test_routes_declare_their_roles(app: Flask) -> None:
    found = {}
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/schedules"):
            for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}:
                found[f"{method} {rule.rule}"] = getattr(app.view_functions[rule.endpoint], "role", None)
    assert len(found) == 8
    for route, role in found.items():
        assert role == ("viewer" if route.startswith("GET ") else "operator"), route


def test_an_export_schedule_submits_the_export_request(lab: tuple[Flask, FlaskClient, StandIn]) -> None:
    _, api, _ = lab
    body = {**GOOD, "action": {"kind": "export", "experiments": [EXP, EXP], "datasets": ["logs"]}}
    s = api.post("/api/schedules", json=body).json
    op = api.post(f"/api/schedules/{s['id']}/run?wait=10").json["operation"]
    assert op["kind"] == "export" and op["trigger"] == "schedule" and op["targets"] == []
    assert op["params"]["experiments"] == [EXP] and op["params"]["datasets"] == ["logs"]
    assert op["status"] == "succeeded", op
    assert api.get(f"/api/exports/{op['id']}").status_code == 200


def test_runner_back_from_a_long_downtime_fires_once(lab: tuple[Flask, FlaskClient, StandIn]) -> None:
    """Two hours of missed 1 s firings: one run on return (the latest due time), then the regular rhythm."""
    app, api, _ = lab
    s = api.post("/api/schedules", json={**GOOD, "trigger": {"type": "interval", "seconds": 1}}).json
    long_ago = datetime.now(UTC) - timedelta(hours=2)
    db = connect(app.config["DATABASE"])
    try:
        stamp = long_ago.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
        db.execute("UPDATE schedules SET active_since = ? WHERE id = ?", (stamp, s["id"]))
        assert sched_db.claim(db, s["id"], stamp)  # a firing two hours ago, then the worker went away
    finally:
        db.close()
    started = datetime.now(UTC)
    runner = Runner(app).start()
    try:
        wait_for(
            lambda: len(api.get(f"/api/schedules/{s['id']}/history").json["history"]) >= 3, 10, 0.05, "3"
        )
    finally:
        runner.stop()
    fired = sorted(api.get(f"/api/schedules/{s['id']}/history").json["history"], key=lambda h: h["due_at"])
    dues = [datetime.fromisoformat(h["due_at"].replace("Z", "+00:00")) for h in fired]
    assert dues[0] == long_ago.replace(microsecond=long_ago.microsecond // 1000 * 1000)
    recent = dues[1:]
    assert started - timedelta(seconds=1) <= recent[0] <= started + timedelta(seconds=1)  # the one catch-up
    assert all(b - a == timedelta(seconds=1) for a, b in itertools.pairwise(recent))


def test_pause_and_resume_run_or_fail_never_hang(lab: tuple[Flask, FlaskClient, StandIn]) -> None:
    """job.pause/job.resume arrive with the contract's engine actions; until then a firing fails saying so."""
    from leader.operations.actions import ACTIONS

    _, api, _ = lab
    for kind in ("job.pause", "job.resume"):
        body = {**GOOD, "action": {"kind": kind, "experiment": EXP, "job": "stirring"}}
        s = api.post("/api/schedules", json=body).json
        op = api.post(f"/api/schedules/{s['id']}/run?wait=10").json["operation"]
        assert op["kind"] == kind
        assert op["status"] in (("succeeded", "partial", "failed") if kind in ACTIONS else ("failed",)), op

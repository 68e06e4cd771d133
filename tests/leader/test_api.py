"""/api against real HTTP stand-in agents; operations run inside the request (huey immediate mode)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from devcluster.procs import free_port, wait_for
from leader.db import connect
from leader.db import operations as ops_db
from leader.db import tokens as tokens_db
from tests.conftest import REPO
from tests.leader.conftest import make_app, with_standins
from tests.leader.standin import StandIn


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[tuple[FlaskClient, list[StandIn]]]:
    with with_standins(tmp_path, 3) as (_, client, agents):
        yield client, agents


def test_every_route_but_health_needs_credentials(app: Flask, client: FlaskClient) -> None:
    rules = [r for r in app.url_map.iter_rules() if r.rule.startswith("/api")]
    assert len(rules) > 25
    for rule in rules:
        path = rule.rule
        for arg in rule.arguments:
            path = path.replace(f"<{arg}>", "x").replace(f"<int:{arg}>", "1")
            path = path.replace(f"<exportid:{arg}>", "0" * 32)  # an operation id's shape
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):  # type: ignore[operator]
            status = client.open(path, method=method).status_code
            expected = 200 if path == "/api/health" else 401
            assert status == expected, f"{method} {path} answered {status}"
    bad = client.get("/api/units", headers={"Authorization": "Bearer nope"})
    assert bad.status_code == 401 and bad.json["error"] == "unauthorized"


def test_secret_key_required_outside_development(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("APP_ENV", raising=False)
    for weak in (None, "", "dev", "short"):
        with pytest.raises(RuntimeError, match="SECRET_KEY"):
            make_app(tmp_path, SECRET_KEY=weak)
    monkeypatch.setenv("APP_ENV", "development")
    app = make_app(tmp_path, SECRET_KEY=None)
    client = app.test_client()
    assert client.get("/api/units").status_code == 200  # explicitly development: no credentials
    assert client.post("/api/experiments", json={"name": "dev"}).status_code == 201
    export = client.post("/api/exports", json={"experiments": ["dev"]})
    assert export.status_code == 202 and export.json["operation"]["requested_by"] == "development"


def test_config_file_and_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from leader import create_app

    conf = tmp_path / "leader.toml"
    conf.write_text(
        'SECRET_KEY = "from-file-0123456789"\nOPERATION_DEADLINE = 7.5\nDATABASE = "store.sqlite"\n'
    )
    monkeypatch.setenv("LEADER_CONFIG", str(conf))
    monkeypatch.setenv("LEADER_INSTANCE_PATH", str(tmp_path / "inst"))
    monkeypatch.setenv("LEADER_OPERATION_DEADLINE", "9")
    app = create_app()
    assert app.config["SECRET_KEY"] == "from-file-0123456789"
    assert app.config["OPERATION_DEADLINE"] == 9  # the environment wins
    assert app.config["DATABASE"] == str(tmp_path / "inst" / "store.sqlite")


def test_errors_name_the_field(api: FlaskClient) -> None:
    r = api.post("/api/units", json={"name": "bad name"})
    assert r.status_code == 400 and "$.name" in r.json["message"]
    r = api.post("/api/units", json={"name": "ok", "port": "x"})
    assert r.status_code == 400 and "$.port" in r.json["message"]
    assert api.get("/api/units/nope").status_code == 404
    assert api.get("/api/units/nope").json["error"] == "not_found"
    big = api.put("/api/config/files/config.ini", json={"content": "x" * (3 * 1024 * 1024)})
    assert big.status_code == 413 and "error" in big.json
    assert api.delete("/api/units").status_code == 405


def test_units_and_assignment_history(api: FlaskClient, app: Flask) -> None:
    for name in ("a1", "a2"):
        assert api.post("/api/units", json={"name": name}).status_code == 201
    assert api.post("/api/units", json={"name": "a1"}).status_code == 409
    unit = api.get("/api/units/a1").json
    assert unit["address"] == "a1" and unit["port"] == 4999 and unit["presence"] in ("unknown", "offline")
    assert api.patch("/api/units/a1", json={"active": False}).json["active"] is False
    for exp in ("e1", "e2"):
        assert api.post("/api/experiments", json={"name": exp, "description": "d"}).status_code == 201
    api.put("/api/experiments/e1/units", json={"units": ["a1", "a2"]})
    moved = api.put("/api/experiments/e2/units", json={"units": ["a1"], "move": True}).json
    assert moved == {"units": ["a1"], "labels": {}}
    assert api.get("/api/experiments/e1").json["units"] == ["a2"]  # a1 moved
    assert api.delete("/api/experiments/e1").status_code == 409  # a2 still there
    assert api.delete("/api/experiments/e1/units/a2").status_code == 204
    assert api.delete("/api/units/a1").status_code == 204
    db = connect(app.config["DATABASE"])
    rows = db.execute(
        "SELECT unit, experiment, unassigned_at IS NULL FROM assignments ORDER BY id"
    ).fetchall()
    assert [tuple(r) for r in rows] == [("a1", "e1", 0), ("a2", "e1", 0), ("a1", "e2", 0)]  # closed, all kept
    assert api.delete("/api/experiments/e1").status_code == 204
    assert [e["name"] for e in api.get("/api/experiments").json] == ["e2"]


def test_start_settings_stop_across_units(cluster: tuple[FlaskClient, list[StandIn]]) -> None:
    client, agents = cluster
    r = client.post("/api/experiments/exp/jobs/stirring/start?wait=10", json={"options": {"target_rpm": 400}})
    assert r.status_code == 202 and r.headers["Location"].startswith("/api/operations/")
    op = r.json["operation"]
    assert op["status"] == "succeeded", op
    assert [(s["unit"], s["status"]) for s in op["steps"]] == [("pio0", "ok"), ("pio1", "ok"), ("pio2", "ok")]
    assert all(a.running == {"stirring": {"target_rpm": 400}} for a in agents)
    again = client.post("/api/experiments/exp/jobs/stirring/start", json={"units": ["pio1"]}).json[
        "operation"
    ]
    assert again["steps"] == [
        {
            "unit": "pio1",
            "status": "ok",
            "detail": "already running",
            "updated_at": again["steps"][0]["updated_at"],
        }
    ]
    r = client.patch("/api/experiments/exp/jobs/stirring/settings", json={"settings": {"target_rpm": 500}})
    op = r.json["operation"]
    assert op["status"] == "succeeded" and all("target_rpm=500" in s["detail"] for s in op["steps"])
    running = client.get("/api/experiments/exp/jobs/running").json
    assert {(j["unit"], j["job_name"]) for j in running} >= set() and isinstance(running, list)
    op = client.post("/api/experiments/exp/jobs/stirring/stop", json={}).json["operation"]
    assert op["status"] == "succeeded" and all(not a.running for a in agents)
    op = client.post("/api/experiments/exp/jobs/stop", json={}).json["operation"]
    assert op["status"] == "succeeded" and {s["detail"] for s in op["steps"]} == {"not running"}


def test_partial_when_one_unit_is_gone(cluster: tuple[FlaskClient, list[StandIn]]) -> None:
    client, agents = cluster
    agents[1].stop()
    agents[2].not_echoed = ["target_rpm"]
    client.post("/api/experiments/exp/jobs/stirring/start", json={"units": ["pio0", "pio2"]})
    op = client.patch(
        "/api/experiments/exp/jobs/stirring/settings", json={"settings": {"target_rpm": 9}}
    ).json["operation"]
    assert op["status"] == "partial"
    steps = {s["unit"]: s for s in op["steps"]}
    assert steps["pio0"]["status"] == "ok"
    assert steps["pio1"]["status"] == "failed" and "unreachable" in steps["pio1"]["detail"]
    assert steps["pio2"]["status"] == "failed" and "not echoed: target_rpm" in steps["pio2"]["detail"]
    r = client.post("/api/experiments/exp/jobs/stirring/start", json={"units": ["nope"]})
    assert r.status_code == 409 and "$.units" in r.json["message"]


def test_config_files_sync_and_history(cluster: tuple[FlaskClient, list[StandIn]]) -> None:
    client, agents = cluster
    r = client.put("/api/config/files/config.ini", json={"content": "[stirring\nx=1\n"})
    assert r.status_code == 400 and r.json["error"] == "invalid_config"
    first = client.put(
        "/api/config/files/config.ini", json={"content": "[stirring]\ntarget_rpm = 400\n"}
    ).json
    client.put("/api/config/files/config_pio0.ini", json={"content": "[stirring]\ntarget_rpm = 300\n"})
    stale = client.put("/api/config/files/config.ini", json={"content": "[a]\n", "sha256": "0" * 64})
    assert stale.status_code == 409
    client.put(
        "/api/config/files/config.ini",
        json={"content": "[stirring]\ntarget_rpm = 450\n", "sha256": first["sha256"]},
    )
    history = client.get("/api/config/files/config.ini/history").json["history"]
    assert [h["content"].split("= ")[1].strip() for h in history] == ["450", "400"]
    agents[2].stop()
    op = client.post("/api/config/sync", json={}).json["operation"]
    assert op["status"] == "partial"
    steps = {s["unit"]: s for s in op["steps"]}
    assert steps["pio0"]["detail"] == "wrote config.ini, unit_config.ini"
    assert steps["pio1"]["status"] == "ok" and steps["pio2"]["status"] == "failed"
    assert agents[0].files == {
        "config.ini": "[stirring]\ntarget_rpm = 450\n",
        "unit_config.ini": "[stirring]\ntarget_rpm = 300\n",
    }


def test_system_actions_on_all_units(cluster: tuple[FlaskClient, list[StandIn]]) -> None:
    client, agents = cluster
    op = client.post("/api/units/$all/system/update").json["operation"]
    assert op["kind"] == "system.update" and op["targets"] == ["pio0", "pio1", "pio2"]
    assert op["status"] == "succeeded"
    one = client.post("/api/units/pio1/system/reboot").json["operation"]
    assert one["targets"] == ["pio1"] and one["status"] == "succeeded"
    assert client.post("/api/units/pio1/system/format").status_code == 404
    check = client.post("/api/units/pio0/check")
    assert check.status_code == 200 and check.json["token_accepted"] is True
    agents[0].stop()
    assert client.post("/api/units/pio0/check").status_code == 502


def test_operations_list_lines_and_events(cluster: tuple[FlaskClient, list[StandIn]]) -> None:
    client, _ = cluster
    op = client.post("/api/experiments/exp/jobs/stirring/start", json={}).json["operation"]
    listed = client.get("/api/operations?kind=job.start&status=succeeded").json["operations"]
    assert [o["id"] for o in listed] == [op["id"]]
    assert client.get("/api/operations?status=bogus").status_code == 400
    assert client.get(f"/api/operations/{op['id']}").json["operation"]["status"] == "succeeded"
    assert client.post(f"/api/operations/{op['id']}/cancel").status_code == 409
    events = _sse(client.get(f"/api/operations/{op['id']}/events").get_data(as_text=True))
    names = [e["event"] for e in events]
    assert names[0] == "state" and names[-1] == "done" and "line" in names
    line_ids = [int(e["id"]) for e in events if e["event"] == "line"]
    assert line_ids == sorted(line_ids) and len(line_ids) >= 5
    resumed = _sse(
        client.get(
            f"/api/operations/{op['id']}/events", headers={"Last-Event-ID": str(line_ids[2])}
        ).get_data(as_text=True)
    )
    assert [int(e["id"]) for e in resumed if e["event"] == "line"] == line_ids[3:]


def test_cancel_queued_and_recover_running(app: Flask, api: FlaskClient) -> None:
    from leader.operations import engine

    db = connect(app.config["DATABASE"])
    api.post("/api/units", json={"name": "u1", "port": free_port()})
    queued = ops_db.create(db, "job.start", {"experiment": "e", "job": "stirring"}, ["u1"], "api")
    r = api.post(f"/api/operations/{queued.id}/cancel")
    assert r.status_code == 202 and r.json["operation"]["status"] == "cancelled"
    running = ops_db.create(db, "job.start", {"experiment": "e", "job": "stirring"}, ["u1"], "api")
    assert ops_db.mark_started(db, running.id)
    lost = ops_db.create(
        db, "job.start", {"experiment": "e", "job": "stirring"}, ["u1"], "api"
    )  # never queued
    # a kind with its own task (export) is re-queued to that task, not to the fan-out engine
    export = ops_db.create(db, "export", {"experiments": ["e"], "datasets": ["logs"]}, [], "api")
    app.extensions["leader.huey"].immediate = True  # the recovery's re-queued operation runs right here
    with app.app_context():
        assert engine.recover() == [running.id]
    after = ops_db.get(db, running.id)
    assert after.status == "interrupted" and after.steps[0].status == "failed" and after.finished_at
    assert "interrupted" in after.steps[0].detail
    assert ops_db.get(db, lost.id).status == "failed"  # it ran: u1 is unreachable
    assert "unreachable" in ops_db.get(db, lost.id).steps[0].detail
    assert ops_db.get(db, export.id).status == "succeeded"
    assert any("e/logs.csv: 0 rows" in line.text for line in ops_db.lines(db, export.id))


def test_tokens_contrib_openapi(api: FlaskClient) -> None:
    created = api.post("/api/tokens", json={"name": "script"}).json
    assert created["token"].startswith("pcl_")
    assert api.get("/api/units", headers={"Authorization": f"Bearer {created['token']}"}).status_code == 200
    assert "token" not in json.dumps(api.get("/api/tokens").json).replace('"name"', "")
    assert api.delete(f"/api/tokens/{created['id']}").status_code == 204
    assert api.get("/api/units", headers={"Authorization": f"Bearer {created['token']}"}).status_code == 401
    jobs = api.get("/api/contrib/jobs").json
    assert len(jobs) == len(list((REPO / "contrib/jobs").glob("*.yaml"))) > 0  # every shipped file validates
    assert all("job_name" in j for j in jobs)
    assert api.get("/api/contrib/automations/temperature").status_code == 200
    assert api.get("/api/contrib/automations/nope").status_code == 404
    charts = api.get("/api/contrib/charts").json
    assert all({"key", "mqtt_topic"} <= set(c) for c in charts)
    spec = api.get("/api/openapi.json").json
    assert "/api/experiments/{exp}/jobs/{job}/start" in spec["paths"]


def test_invalid_descriptor_is_skipped_not_fatal(tmp_path: Path) -> None:
    (tmp_path / "contrib/jobs").mkdir(parents=True)
    (tmp_path / "contrib/jobs/good.yaml").write_text(
        "job_name: stirring\ndisplay_name: Stirring\ndescription: d\n"
    )
    (tmp_path / "contrib/jobs/bad.yaml").write_text("job_name: [not, a, name]\n")
    app = make_app(tmp_path, CONTRIB_DIR=str(tmp_path / "contrib"), APP_ENV="production")
    db = connect(app.config["DATABASE"])
    client = app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = "Bearer " + tokens_db.create(db, "t").token
    assert [j["job_name"] for j in client.get("/api/contrib/jobs").json] == ["stirring"]


def _sse(text: str) -> list[dict[str, str]]:
    events = []
    for block in text.strip().split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines() if not line.startswith(":"))
        if fields:
            events.append(fields)
    return events


def test_cancel_a_running_operation(cluster: tuple[FlaskClient, list[StandIn]]) -> None:
    import threading

    from leader.operations import engine

    client, agents = cluster
    app = client.application
    agents[0].task_time = 30.0  # pio0 keeps its task pending
    db = connect(app.config["DATABASE"])
    op = ops_db.create(db, "job.start", {"experiment": "exp", "job": "stirring"}, ["pio0", "pio1"], "api")

    def work() -> None:
        with app.app_context():
            engine.run(op.id)

    worker = threading.Thread(target=work)
    worker.start()
    wait_for(lambda: ops_db.get(db, op.id).steps[1].status == "ok", 20, what="pio1 done")
    r = client.post(f"/api/operations/{op.id}/cancel?wait=5")
    worker.join(30)
    final = r.json["operation"]
    assert final["status"] == "cancelled", final
    assert final["steps"][0]["status"] == "failed" and "cancel" in final["steps"][0]["detail"]


def test_inactive_units_are_left_out_by_default(cluster: tuple[FlaskClient, list[StandIn]]) -> None:
    client, agents = cluster
    assert client.patch("/api/units/pio1", json={"active": False}).json["active"] is False
    op = client.post("/api/experiments/exp/jobs/stirring/start", json={}).json["operation"]
    assert op["targets"] == ["pio0", "pio2"] and not agents[1].running
    op = client.post("/api/experiments/exp/jobs/stirring/start", json={"units": ["pio1"]}).json["operation"]
    assert op["status"] == "succeeded"  # named explicitly, it is asked
    assert client.patch("/api/units/pio1", json={"address": "bad\nhost"}).status_code == 400


def test_openapi_documents_every_api_route(app: Flask, api: FlaskClient) -> None:
    from cluster_schema.openapi import openapi_path

    spec = api.get("/api/openapi.json").json
    assert spec["openapi"].startswith("3.1")
    missing = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/"):
            continue
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            if method.lower() not in spec["paths"].get(openapi_path(rule.rule), {}):
                missing.append(f"{method} {rule.rule}")
    assert not missing, f"routes missing from /api/openapi.json: {missing}"

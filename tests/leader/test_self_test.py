"""The self-test on /api and its card: starting one is an operation running `pio run self_test` on the
unit (stand-in agents), refused while a job it would disturb runs; the answer is read from what the ingest
stored of real pio's `$experiment/self_test/…` topics, check by check, with the run's times."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from leader.ingest.writer import Message
from leader.self_test import CHECKS
from tests.leader.conftest import api_client, ingest_in_order, with_standins

ST = "pioreactor/pio0/$experiment/self_test"


def _messages(unit_topics: list[tuple[str, str]], t0: float) -> list[Message]:
    return [Message(topic, payload.encode(), t0 + i * 0.01) for i, (topic, payload) in enumerate(unit_topics)]


def _start_of_run() -> list[tuple[str, str]]:
    return [(f"{ST}/$state", "init"), (f"{ST}/$state", "ready")] + [(f"{ST}/{name}", "") for name in CHECKS]


def _runs(agent: Any) -> list[Any]:
    return [b for m, p, b in agent.bodies if m == "POST" and p == "/unit_api/jobs/run/job_name/self_test"]


def test_start_is_an_operation_running_pio_self_test_for_operators(tmp_path: Path) -> None:
    with with_standins(tmp_path, 2, experiment=False) as (app, admin, agents):
        viewer, operator = api_client(app, "viewer"), api_client(app, "operator")
        r = viewer.post("/api/units/pio0/self_test")
        assert r.status_code == 403 and "operator" in r.json["message"]
        r = operator.post("/api/units/pio0/self_test?wait=5")
        assert r.status_code == 202, r.json
        op = r.json["operation"]
        assert (op["kind"], op["status"], op["targets"]) == ("unit.self_test", "succeeded", ["pio0"])
        (step,) = op["steps"]
        assert (step["unit"], step["status"], step["detail"]) == (
            "pio0",
            "ok",
            "self-test started (pid 1234)",
        )
        # no experiment asked for: real pio picks `$experiment` for the self-test itself
        (run,) = _runs(agents[0])
        assert run["experiment"] is None and run["options"] == {} and run["env"] == {}
        assert _runs(agents[1]) == []
        # asking again while it runs: done already
        again = operator.post("/api/units/pio0/self_test?wait=5").json["operation"]
        assert again["steps"][0]["detail"] == "a self-test is already running"
        assert admin.post("/api/units/nobody/self_test").status_code == 404
        # the answer shows the request until the unit reports
        answer = viewer.get("/api/units/pio0/self_test").json
        assert (answer["verdict"], answer["operation_id"]) == ("starting", again["id"])
        assert {c["status"] for c in answer["checks"]} == {"pending"}


def test_refused_while_stirring_runs_naming_it(tmp_path: Path) -> None:
    with with_standins(tmp_path, 1, experiment=False) as (_, admin, agents):
        ingest_in_order(admin, _messages([("pioreactor/pio0/exp/stirring/$state", "ready")], time.time()))
        r = admin.post("/api/units/pio0/self_test")
        assert r.status_code == 409, r.json
        assert r.json["error"] == "jobs_running" and "stirring on pio0" in r.json["message"]
        assert _runs(agents[0]) == []


@pytest.fixture
def api_and_unit(api: FlaskClient, setup_done: None) -> FlaskClient:
    assert api.post("/api/units", json={"name": "pio0"}).status_code == 201
    return api


def test_the_leaders_checks_are_real_pios_in_order() -> None:
    from unit_agent.sim.self_test import CHECKS as SIMULATED  # checked against real pio in tests/agent

    assert list(CHECKS) == [name for name, _, _ in SIMULATED]


def test_never_run(api_and_unit: FlaskClient) -> None:
    answer = api_and_unit.get("/api/units/pio0/self_test").json
    assert answer["verdict"] == "never" and answer["started_at"] is None
    assert [c["name"] for c in answer["checks"]] == list(CHECKS)
    assert {c["status"] for c in answer["checks"]} == {"not_run"}


def test_a_run_check_by_check_then_its_verdict_stays(api_and_unit: FlaskClient) -> None:
    api = api_and_unit
    t0 = time.time() - 60
    # last run's outcomes (all passed), then a new run clears them and reports two checks so far
    old = _start_of_run() + [(f"{ST}/{n}", "1") for n in CHECKS] + [(f"{ST}/all_tests_passed", "1")]
    old.append((f"{ST}/$state", "disconnected"))
    ingest_in_order(api, _messages(old, t0))
    first, second, *rest = CHECKS
    new = [*_start_of_run(), (f"{ST}/{first}", "1"), (f"{ST}/{second}", "0")]
    ingest_in_order(api, _messages(new, t0 + 10))
    answer = api.get("/api/units/pio0/self_test").json
    assert answer["verdict"] == "running" and answer["finished_at"] is None
    statuses = {c["name"]: c["status"] for c in answer["checks"]}
    assert (statuses[first], statuses[second]) == ("passed", "failed")
    assert {statuses[n] for n in rest} == {"pending"}
    assert (answer["passed"], answer["failed"]) == (1, 1)
    assert answer["checks"][0]["title"] == "HAT is connected"

    page = api.get("/units/pio0/self_test").get_data(as_text=True)
    assert (
        'hx-trigger="every 1s, action-done from:body"' in page and "Photodiodes respond to the IR LED" in page
    )

    warning = (
        b'{"source":"app","task":"self_test","level":"WARNING","timestamp":"%s","message":'
        b'"test all positive correlations between pds and leds: missing IR LED to PD correlations"}'
    )
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(t0 + 15))
    log = Message("pioreactor/pio0/$experiment/logs/app/warning", warning % stamp.encode(), t0 + 15)
    ingest_in_order(api, [log])
    done = [(f"{ST}/{n}", "1") for n in rest] + [
        (f"{ST}/all_tests_passed", "0"),
        (f"{ST}/$state", "disconnected"),
    ]
    ingest_in_order(api, _messages(done, t0 + 20))
    answer = api.get("/api/units/pio0/self_test").json
    assert answer["verdict"] == "failed" and (answer["passed"], answer["failed"]) == (10, 1)
    assert answer["started_at"] < answer["finished_at"]
    (failed,) = [c for c in answer["checks"] if c["status"] == "failed"]
    assert failed["reason"] == "missing IR LED to PD correlations"
    page = api.get("/units/pio0").get_data(as_text=True)
    assert 'data-self-test="failed"' in page and "1 of 11 checks failed" in page
    assert "every 1s" not in page  # nothing to follow any more


def test_a_run_that_ends_without_a_verdict_is_stopped(api_and_unit: FlaskClient) -> None:
    msgs = [*_start_of_run(), (f"{ST}/$state", "disconnected")]
    ingest_in_order(api_and_unit, _messages(msgs, time.time()))
    answer = api_and_unit.get("/api/units/pio0/self_test").json
    assert answer["verdict"] == "stopped"
    assert {c["status"] for c in answer["checks"]} == {"not_run"}

"""Contract additions on /api (design.md "Additions to existing answers and requests"), against real HTTP
stand-in agents with operations run inside the request: config overrides on job start, pause/resume,
`move` on assignment, unit labels, manual notes. Normal and bad-input behaviour of each."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient

from tests.agent.test_agent_security import BAD_VALUES, CORPUS
from tests.leader.standin import StandIn
from tests.leader.test_api import cluster  # noqa: F401  (the fixture: three stand-ins, experiment `exp`)

Cluster = tuple[FlaskClient, list[StandIn]]


def _error(r: Any, status: int, field: str) -> None:
    assert r.status_code == status, (r.status_code, r.json)
    assert set(r.json) == {"error", "message"} and field in r.json["message"], r.json


def test_config_overrides_reach_the_agents_for_that_run(cluster: Cluster) -> None:  # noqa: F811
    api, agents = cluster
    overrides = [["stirring.config", "initial_target_rpm", "444"], ["PWM", "1", "stirring"]]
    r = api.post("/api/experiments/exp/jobs/stirring/start", json={"config_overrides": overrides})
    assert r.status_code == 202 and r.json["operation"]["status"] == "succeeded", r.json
    assert r.json["operation"]["params"]["config_overrides"] == overrides
    for agent in agents:
        sent = [b for m, p, b in agent.bodies if m == "POST" and p.endswith("/jobs/run/job_name/stirring")]
        assert sent[-1]["config_overrides"] == overrides
    # another run without them sends none
    api.post("/api/experiments/exp/jobs/stirring/stop")
    assert api.post("/api/experiments/exp/jobs/stirring/start", json={}).status_code == 202
    last = [b for m, p, b in agents[0].bodies if m == "POST" and p.endswith("/run/job_name/stirring")][-1]
    assert last["config_overrides"] == []


def test_config_overrides_refused_like_the_agent_refuses_them(cluster: Cluster) -> None:  # noqa: F811
    api, agents = cluster
    cases: list[tuple[Any, str]] = []
    for bad in CORPUS:
        if bad != "UPPER":  # config.ini sections may be upper case (`PWM`)
            cases.append(([[bad, "k", "1"]], "$.config_overrides[0][0]"))
            cases.append(([["s", bad, "1"]], "$.config_overrides[0][1]"))
    for bad in BAD_VALUES:
        cases.append(([["s", "k", "1"], ["s", "k", bad]], "$.config_overrides[1][2]"))
    cases += [([["s", "k"]], "$.config_overrides[0]"), ("x", "$.config_overrides"), ([[1, "k", "v"]], "[0]")]
    before = sum(len(a.requests) for a in agents)
    for overrides, field in cases:
        r = api.post("/api/experiments/exp/jobs/stirring/start", json={"config_overrides": overrides})
        _error(r, 400, field)
    assert sum(len(a.requests) for a in agents) == before  # nothing half-done: no agent was asked
    assert all(op["kind"] != "job.start" for op in api.get("/api/operations").json["operations"])


def test_pause_and_resume_set_the_jobs_state(cluster: Cluster) -> None:  # noqa: F811
    api, agents = cluster
    assert (
        api.post("/api/experiments/exp/jobs/stirring/start", json={"units": ["pio0", "pio1"]}).json[
            "operation"
        ]["status"]
        == "succeeded"
    )
    r = api.post("/api/experiments/exp/jobs/stirring/pause", json={"units": ["pio0", "pio1"]})
    assert r.status_code == 202 and r.headers["Location"] == f"/api/operations/{r.json['operation']['id']}"
    op = r.json["operation"]
    assert op["kind"] == "job.pause" and op["status"] == "succeeded", op
    assert {s["detail"] for s in op["steps"]} == {"stirring sleeping"}
    sent = [b for m, p, b in agents[0].bodies if m == "PATCH"]
    assert sent[-1] == {"settings": {"$state": "sleeping"}, "experiment": "exp"}
    assert agents[0].running["stirring"]["$state"] == "sleeping"

    op = api.post("/api/experiments/exp/jobs/stirring/resume", json={}).json["operation"]  # all units
    assert op["kind"] == "job.resume" and op["status"] == "partial", op
    steps = {s["unit"]: (s["status"], s["detail"]) for s in op["steps"]}
    assert steps == {
        "pio0": ("ok", "stirring ready"),
        "pio1": ("ok", "stirring ready"),
        "pio2": ("failed", "stirring is not running"),
    }
    assert agents[1].running["stirring"]["$state"] == "ready"


def test_pause_and_resume_bad_input(cluster: Cluster) -> None:  # noqa: F811
    api, agents = cluster
    for action in ("pause", "resume"):
        _error(
            api.post(f"/api/experiments/exp/jobs/stirring/{action}", json={"units": ["a b"]}),
            400,
            "$.units[0]",
        )
        _error(
            api.post(f"/api/experiments/exp/jobs/stirring/{action}", json={"units": "pio0"}), 400, "$.units"
        )
        _error(api.post(f"/api/experiments/exp/jobs/Bad-Job/{action}", json={}), 400, "job")
        _error(
            api.post(f"/api/experiments/exp/jobs/stirring/{action}", json={"units": ["nope"]}), 409, "$.units"
        )
        _error(api.post(f"/api/experiments/nope/jobs/stirring/{action}", json={}), 404, "nope")
        _error(api.post(f"/api/experiments/exp/jobs/stirring/{action}?wait=99", json={}), 400, "wait")
    assert not any(m == "PATCH" for a in agents for m, _ in a.requests)


def test_units_of_another_experiment_move_only_when_asked(cluster: Cluster) -> None:  # noqa: F811
    api, _ = cluster
    assert api.post("/api/experiments", json={"name": "other"}).status_code == 201
    r = api.put("/api/experiments/other/units", json={"units": ["pio2", "pio0"]})
    _error(r, 409, "$.units")
    assert r.json["error"] == "assigned_elsewhere"
    assert "pio0 (in 'exp'), pio2 (in 'exp')" in r.json["message"] and '"move": true' in r.json["message"]
    assert api.get("/api/experiments/exp/units").json["units"] == ["pio0", "pio1", "pio2"]  # nothing moved
    assert api.get("/api/experiments/other").json["units"] == []
    _error(api.put("/api/experiments/other/units", json={"units": ["pio0"], "move": "yes"}), 400, "$.move")

    r = api.put("/api/experiments/other/units", json={"units": ["pio2", "pio0"], "move": True})
    assert r.status_code == 200 and r.json == {"units": ["pio0", "pio2"], "labels": {}}
    assert api.get("/api/experiments/exp/units").json["units"] == ["pio1"]
    # units already here, or in no experiment, need no `move`
    api.delete("/api/experiments/exp/units/pio1")
    r = api.put("/api/experiments/other/units", json={"units": ["pio0", "pio1", "pio2"]})
    assert r.status_code == 200 and r.json["units"] == ["pio0", "pio1", "pio2"]
    _error(api.put("/api/experiments/other/units", json={"units": ["ghost"]}), 409, "ghost")
    _error(api.put("/api/experiments/nope/units", json={"units": []}), 404, "nope")


def test_unit_labels_per_experiment(cluster: Cluster) -> None:  # noqa: F811
    api, _ = cluster
    r = api.put("/api/experiments/exp/units/pio0/label", json={"label": "Vial A · 30°C"})
    assert r.status_code == 200 and r.json == {
        "units": ["pio0", "pio1", "pio2"],
        "labels": {"pio0": "Vial A · 30°C"},
    }
    api.put("/api/experiments/exp/units/pio1/label", json={"label": "B"})
    assert api.get("/api/experiments/exp").json["labels"] == {"pio0": "Vial A · 30°C", "pio1": "B"}
    assert api.get("/api/experiments/exp/units").json["labels"] == {"pio0": "Vial A · 30°C", "pio1": "B"}
    assert api.get("/api/experiments").json[0]["units"] == ["pio0", "pio1", "pio2"]  # still names
    # unique within the experiment; relabelling a unit with its own label is fine
    _error(api.put("/api/experiments/exp/units/pio2/label", json={"label": "B"}), 409, "$.label")
    assert api.put("/api/experiments/exp/units/pio1/label", json={"label": "B"}).status_code == 200
    # a label is the experiment's: it leaves with the unit and comes back with it
    api.delete("/api/experiments/exp/units/pio1")
    assert api.get("/api/experiments/exp").json["labels"] == {"pio0": "Vial A · 30°C"}
    _error(api.put("/api/experiments/exp/units/pio1/label", json={"label": "C"}), 409, "pio1")
    api.put("/api/experiments/exp/units", json={"units": ["pio0", "pio1", "pio2"]})
    assert api.get("/api/experiments/exp").json["labels"]["pio1"] == "B"
    # the empty label removes it
    assert api.put("/api/experiments/exp/units/pio1/label", json={"label": ""}).json["labels"] == {
        "pio0": "Vial A · 30°C"
    }
    for bad in (" x", "x ", "   ", "a" * 65, "tab\there", "nl\nx", "\x00", 5, None):
        _error(api.put("/api/experiments/exp/units/pio2/label", json={"label": bad}), 400, "$.label")
    _error(api.put("/api/experiments/exp/units/pio2/label", json={}), 400, "label")
    _error(api.put("/api/experiments/exp/units/bad_name/label", json={"label": "x"}), 400, "unit")
    _error(api.put("/api/experiments/nope/units/pio2/label", json={"label": "x"}), 404, "nope")
    _error(api.put("/api/experiments/exp/units/ghost/label", json={"label": "x"}), 409, "ghost")
    assert api.get("/api/experiments/exp").json["labels"] == {"pio0": "Vial A · 30°C"}


def test_manual_notes_are_logs_with_their_author(cluster: Cluster) -> None:  # noqa: F811
    api, _ = cluster
    r = api.post("/api/experiments/exp/logs", json={"message": "Added 2 ml of media.\nSmells fine."})
    assert r.status_code == 201, r.json
    note = r.json
    assert note["source"] == "user" and note["level"] == "notice" and note["unit"] == "$broadcast"
    assert note["experiment"] == "exp" and note["job"] is None
    assert note["author"].startswith("token:") and note["timestamp"].endswith("Z")
    r = api.post(
        "/api/experiments/exp/logs", json={"message": "pio1 foams", "level": "warning", "unit": "pio1"}
    )
    assert r.status_code == 201 and (r.json["unit"], r.json["level"]) == ("pio1", "warning")
    logs = api.get("/api/logs", query_string={"experiment": "exp"}).json["logs"]
    assert [e["message"] for e in logs] == [
        "pio1 foams",
        "Added 2 ml of media.\nSmells fine.",
    ]  # newest first
    assert logs[1] == note
    assert [e["message"] for e in api.get("/api/logs?unit=pio1").json["logs"]] == ["pio1 foams"]
    assert [e["message"] for e in api.get("/api/logs?min_level=warning").json["logs"]] == ["pio1 foams"]

    for bad, field in (
        ({}, "message"),
        ({"message": ""}, "$.message"),
        ({"message": "  \n"}, "$.message"),
        ({"message": "x" * 5001}, "$.message"),
        ({"message": "bell\x07"}, "$.message"),
        ({"message": 5}, "$.message"),
        ({"message": "x", "level": "loud"}, "$.level"),
        ({"message": "x", "unit": "bad name"}, "$.unit"),
    ):
        _error(api.post("/api/experiments/exp/logs", json=bad), 400, field)
    _error(api.post("/api/experiments/exp/logs", json={"message": "x", "unit": "ghost"}), 409, "$.unit")
    _error(api.post("/api/experiments/nope/logs", json={"message": "x"}), 404, "nope")
    assert len(api.get("/api/logs", query_string={"experiment": "exp"}).json["logs"]) == 2  # nothing else


def test_pause_submitted_like_a_schedule_needs_no_state_param(cluster: Cluster) -> None:  # noqa: F811
    from leader.operations.submit import submit

    api, agents = cluster
    api.post("/api/experiments/exp/jobs/stirring/start", json={"units": ["pio0"]})
    with api.application.test_request_context():
        op = submit("job.pause", {"experiment": "exp", "job": "stirring"}, ["pio0"], "schedule")
    done = api.get(f"/api/operations/{op.id}").json["operation"]
    assert done["status"] == "succeeded" and done["trigger"] == "schedule", done
    assert agents[0].running["stirring"]["$state"] == "sleeping"

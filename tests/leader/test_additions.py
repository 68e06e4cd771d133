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

"""A profile run while the broker dies and comes back: the run goes on from the store (its actions reach the
agents over HTTP, not MQTT), every action fires once, it finishes, and the ingest follows the jobs again.

The leader worker killed mid-profile and while schedules fire is in tests/cluster (test_profiles.py,
test_schedules_cluster.py); here the broker is the fault. Real processes, a broker of the test's own.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from devcluster.broker import Broker
from devcluster.cluster import Agent, Cluster
from devcluster.procs import wait_for

pytestmark = [pytest.mark.timeout(180)]

UNITS = ["unit1", "unit2"]
PROFILE = """
version: "1.0"
experiment_profile_name: survives the broker
common:
  jobs:
    stirring:
      actions:
        - {type: start, t: 0s}
        - type: repeat
          t: 1s
          every: 1s
          max_time: 8s
          actions:
            - {type: log, t: 0s, options: {message: "tick on ${{ unit() }}"}}
        - {type: stop, t: 10s}
"""


@pytest.fixture
def cluster(tmp_path: Path, fresh_broker: Broker) -> Iterator[Cluster]:
    c = Cluster(
        tmp_path / "cluster",
        units=2,
        broker=fresh_broker,
        leader_settings={"PROFILE_TICK": 0.1, "PROFILE_WHEN_POLL": 0.5},
    )
    c.start()
    try:
        assert c.api("POST", "/api/experiments", json={"name": "exp"}).status_code == 201
        assert c.api("PUT", "/api/experiments/exp/units", json={"units": UNITS}).status_code == 200
        assert c.api("PUT", "/api/profiles/broker", json={"yaml": PROFILE}).status_code == 201
        yield c
    finally:
        c.stop()


def _op(cluster: Cluster, op_id: str) -> dict[str, Any]:
    return cluster.api("GET", f"/api/operations/{op_id}").json()["operation"]  # type: ignore[no-any-return]


def _running_on_agent(cluster: Cluster, agent: Agent) -> list[str]:
    r = requests.get(
        agent.url + "/unit_api/jobs/running",
        headers={"Authorization": f"Bearer {cluster.cluster_token}"},
        timeout=5,
    )
    r.raise_for_status()
    return [j["job_name"] for j in r.json()]


def _running_in_leader(cluster: Cluster) -> set[str]:
    jobs = cluster.api("GET", "/api/experiments/exp/jobs/running").json()
    return {j["unit"] for j in jobs if j["job_name"] == "stirring"}


def test_broker_killed_and_restarted_mid_profile_the_run_continues(
    cluster: Cluster, fresh_broker: Broker
) -> None:
    run_id = cluster.api("POST", "/api/experiments/exp/profiles/broker/run", json={}).json()["operation"][
        "id"
    ]
    wait_for(
        lambda: sum(e["detail"].startswith("iteration") for e in _op(cluster, run_id)["plan"]) >= 2,
        30,
        0.1,
        "the first iteration on each unit",
    )
    fresh_broker.stop()  # mid-profile: the repeat goes on, the stop at 10 s is still ahead
    wait_for(
        lambda: sum(e["detail"].startswith("iteration") for e in _op(cluster, run_id)["plan"]) >= 6,
        30,
        0.1,
        "iterations while the broker is down",
    )
    fresh_broker.start()
    final = wait_for(
        lambda: (op := _op(cluster, run_id))["status"] not in ("queued", "running") and op,
        60,
        0.2,
        "the profile run to finish",
    )
    assert final["status"] == "succeeded", final
    plan = final["plan"]
    for unit in UNITS:
        iterations = [e["detail"] for e in plan if e["unit"] == unit and e["action"] == "repeat"]
        assert sorted(iterations) == sorted(f"iteration {i}" for i in range(1, 9)), iterations
    logs = [e["message"] for e in cluster.api("GET", "/api/logs?experiment=exp&limit=1000").json()["logs"]]
    assert logs.count("tick on unit1") == 8 and logs.count("tick on unit2") == 8, logs
    children = cluster.api("GET", "/api/operations?limit=500").json()["operations"]
    kinds = sorted(o["kind"] for o in children if o["requested_by"] == f"profile:{run_id}")
    assert kinds == ["job.start", "job.start", "job.stop", "job.stop"], kinds
    assert all(o["status"] not in ("queued", "running") for o in children), children
    wait_for(
        lambda: all(_running_on_agent(cluster, a) == [] for a in cluster.agents), 15, 0.2, "jobs stopped"
    )
    # the ingest reconnected to the restarted broker and saw the jobs end: nothing stays `running`
    wait_for(
        lambda: _running_in_leader(cluster) == set(), 30, 0.2, "the leader's store sees the jobs stopped"
    )

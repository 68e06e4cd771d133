"""Profile runs on a real pio-sim cluster, for the tests that run profiles through a fault: the leader worker
killed (tests/cluster/test_profiles.py) or the broker (tests/faults/test_profile_faults.py).

    with profile_cluster(path, broker, {"name": yaml, ...}) as cluster:   # experiment `exp` on UNITS
    run_id = start_run(cluster, "name"); final = finished(cluster, run_id, seconds)
    ticking(title): start stirring, a log every 1 s for 8 s, stop at 10 s - what a fault must not repeat
    assert_ticked_once_each(cluster, final, run_id): its 8 iterations and logs on each unit, once each
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import requests

from devcluster.broker import Broker
from devcluster.cluster import Agent, Cluster
from devcluster.procs import wait_for

UNITS = ["unit1", "unit2"]


TICKING = """
version: "1.0"
experiment_profile_name: TITLE
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


def ticking(title: str) -> str:
    return TICKING.replace("TITLE", title)


@contextmanager
def profile_cluster(path: Path, broker: Broker, profiles: dict[str, str]) -> Iterator[Cluster]:
    """Two pio-sim units in experiment `exp`, the profiles stored, the worker ticking every 0.1 s."""
    c = Cluster(path, units=2, broker=broker, leader_settings={"PROFILE_WHEN_POLL": 0.5, "PROFILE_TICK": 0.1})
    c.start()
    try:
        assert c.api("POST", "/api/experiments", json={"name": "exp"}).status_code == 201
        assert c.api("PUT", "/api/experiments/exp/units", json={"units": UNITS}).status_code == 200
        for name, text in profiles.items():
            r = c.api("PUT", f"/api/profiles/{name}", json={"yaml": text})
            assert r.status_code == 201, r.text
        yield c
    finally:
        c.stop()


def start_run(cluster: Cluster, profile: str) -> str:
    r = cluster.api("POST", f"/api/experiments/exp/profiles/{profile}/run", json={})
    assert r.status_code == 202, r.text
    return r.json()["operation"]["id"]  # type: ignore[no-any-return]


def op(cluster: Cluster, op_id: str) -> dict[str, Any]:
    return cluster.api("GET", f"/api/operations/{op_id}").json()["operation"]  # type: ignore[no-any-return]


def finished(cluster: Cluster, op_id: str, seconds: float) -> dict[str, Any]:
    return wait_for(  # type: ignore[no-any-return]
        lambda: (o := op(cluster, op_id))["status"] not in ("queued", "running") and o,
        seconds,
        0.2,
        f"profile run {op_id} to finish",
    )


def iterations(cluster: Cluster, run_id: str) -> int:
    """Repeat iterations done so far, over every unit."""
    return sum(e["detail"].startswith("iteration") for e in op(cluster, run_id)["plan"])


def children(cluster: Cluster, run_id: str) -> list[dict[str, Any]]:
    ops = cluster.api("GET", "/api/operations?limit=500").json()["operations"]
    return [o for o in ops if o["requested_by"] == f"profile:{run_id}"]


def running(cluster: Cluster, agent: Agent) -> list[str]:
    """The jobs the agent itself says are running (not the leader's view of them)."""
    r = requests.get(
        agent.url + "/unit_api/jobs/running",
        headers={"Authorization": f"Bearer {cluster.cluster_token}"},
        timeout=30,
    )
    r.raise_for_status()
    return [j["job_name"] for j in r.json()]


def logs(cluster: Cluster) -> list[str]:
    page = cluster.api("GET", "/api/logs?experiment=exp&limit=1000").json()
    assert "logs" in page, page
    return [e["message"] for e in page["logs"]]


def assert_ticked_once_each(cluster: Cluster, final: dict[str, Any], run_id: str) -> None:
    """A `ticking` run that went through a fault: it succeeded, each iteration and log ran once per unit
    (none lost, none repeated), and it started and stopped stirring once per unit."""
    assert final["status"] == "succeeded", final
    plan = final["plan"]
    for unit in UNITS:
        done = [e["detail"] for e in plan if e["unit"] == unit and e["action"] == "repeat"]
        assert sorted(done) == sorted(f"iteration {i}" for i in range(1, 9)), done
        assert len([e for e in plan if e["unit"] == unit and e["action"] == "log"]) == 8
    messages = logs(cluster)
    assert messages.count("tick on unit1") == 8 and messages.count("tick on unit2") == 8, messages
    kinds = sorted(o["kind"] for o in children(cluster, run_id))
    assert kinds == ["job.start", "job.start", "job.stop", "job.stop"], kinds

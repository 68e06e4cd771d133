"""Experiment profiles in Pioreactor's own format run by the leader worker on a pio-sim cluster.

Profiles use second-scale `t` values; each effect is checked against its plan time (the operation it
submitted started at or after it, and not long after), on the agents (settings echoed, jobs started and
stopped) and in the leader's store (log lines).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from devcluster.broker import Broker
from devcluster.cluster import Agent, Cluster
from devcluster.procs import wait_for
from tests.profile_runs import (
    UNITS,
    assert_ticked_once_each,
    children,
    finished,
    iterations,
    logs,
    op,
    profile_cluster,
    running,
    start_run,
    ticking,
)

pytestmark = [pytest.mark.cluster, pytest.mark.xdist_group("profiles_cluster"), pytest.mark.timeout(180)]

LATE = 3.0  # seconds an action may start after its plan time on a loaded 2-core machine

CORPUS = """
version: "1.0"
experiment_profile_name: every action type
metadata: {author: tests, description: "start, update, pause, resume, repeat, when, log, stop"}
inputs: {rpm: 300}
common:
  jobs:
    stirring:
      description: the common block
      actions:
        - {type: start, t: 0s, options: {target_rpm: "${{ rpm }}"}}
        - {type: update, t: 1s, options: {target_rpm: "${{ rpm + 100 }}"}}
        - {type: pause, t: 2.5s}
        - {type: resume, t: 3.5s}
        - type: repeat
          t: 5s
          every: 2s
          max_time: 6s
          while: ${{ ::stirring:target_rpm < 1000 }}
          actions:
            - {type: update, t: 0s, options: {target_rpm: "${{ ::stirring:target_rpm + 10 }}"}}
        - type: log
          t: 12s
          options: {message: "rpm on ${{ unit() }} is ${{ ::stirring:target_rpm }}", level: info}
        - {type: stop, t: 13s}
pioreactors:
  unit1:
    label: hot
    jobs:
      od_reading:
        actions:
          - type: when
            t: 0s
            wait_until: ${{ unit1:stirring:target_rpm >= 400 }}
            actions:
              - {type: start, t: 0s}
              - {type: log, t: 0s, options: {message: "od after ${{ job_name() }} waited"}}
              - {type: stop, t: 4s}
  unit2:
    jobs:
      stirring:
        actions:
          - {type: log, t: 2s, if: "${{ unit2:stirring:target_rpm > 0 }}", options: {message: "unit2 stirs"}}
          - {type: log, t: 2s, if: "unit() == unit1", options: {message: "never logged"}}
  unit9:
    jobs:
      stirring: {actions: [{type: start, t: 0s}]}
"""

LONG = """
version: "1.0"
experiment_profile_name: long
common:
  jobs:
    stirring:
      actions:
        - {type: start, t: 0s, options: {target_rpm: 350}}
        - {type: stop, t: 1h}
"""


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory, mqtt_broker: Broker) -> Iterator[Cluster]:
    profiles = {"corpus": CORPUS, "long": LONG, "restart": ticking("survives a restart")}
    with profile_cluster(tmp_path_factory.mktemp("profiles"), mqtt_broker, profiles) as c:
        yield c


def _epoch(iso: str) -> float:
    return time.mktime(time.strptime(iso[:19], "%Y-%m-%dT%H:%M:%S")) - time.timezone + float("0" + iso[19:-1])


def test_corpus_runs_each_action_at_its_time(cluster: Cluster) -> None:
    r = cluster.api("POST", "/api/experiments/exp/profiles/corpus/run", json={})
    assert r.status_code == 202, r.text
    run = r.json()["operation"]
    assert run["kind"] == "profile.run" and run["params"]["experiment"] == "exp"
    first = run["plan"]
    assert {(e["unit"], e["job"], e["action"]) for e in first} >= {
        ("unit1", "stirring", "start"),
        ("unit2", "stirring", "repeat"),
        ("unit1", "od_reading", "when"),
    }
    assert not any(e["unit"] == "unit9" for e in first)  # not in the experiment: a warning, no rows
    labels = cluster.api("GET", "/api/experiments/exp").json().get("labels")
    assert labels == {"unit1": "hot"}, labels  # `pioreactors.unit1.label`, set as the run starts
    at0 = [e["at"] for e in first if e["action"] == "start"]
    assert len(at0) == 2 and len(set(at0)) == 1  # the common start: one time for every unit
    assert all(e["status"] == "pending" for e in first if e["action"] != "start")

    def target_rpm(agent: Agent) -> float | None:
        r = requests.get(
            agent.url + "/unit_api/jobs/settings/job_name/stirring",
            headers={"Authorization": f"Bearer {cluster.cluster_token}"},
            timeout=30,
        )
        return float(r.json()["settings"]["target_rpm"]) if r.status_code == 200 else None

    # the `when` starts od_reading on unit1 once unit1's target_rpm reached 400 (after the update at 1 s)
    wait_for(lambda: "od_reading" in running(cluster, cluster.agents[0]), 15, 0.2, "od_reading on unit1")
    assert "od_reading" not in running(cluster, cluster.agents[1])
    # three repeat iterations add 10 each: 400 -> 430 on both units, then the stop at 13 s
    wait_for(lambda: all(target_rpm(a) == 430.0 for a in cluster.agents), 20, 0.2, "target_rpm 430")
    final = finished(cluster, run["id"], 40)
    plan = final["plan"]
    bad = [e for e in plan if e["status"] != "done"]
    assert [e["detail"] for e in bad] == ["`if` condition, `unit() == unit1`, evaluated False"], bad
    assert final["status"] == "succeeded"
    by_action: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
    for e in plan:
        by_action.setdefault((e["unit"], e["job"], e["action"]), []).append(e)
    for unit in UNITS:
        repeats = by_action[(unit, "stirring", "repeat")]
        assert sorted(e["detail"] for e in repeats) == ["iteration 1", "iteration 2", "iteration 3"]
        assert len(by_action[(unit, "stirring", "update")]) == 4
    assert [e["status"] for e in by_action[("unit2", "stirring", "log")]].count("skipped") == 1
    assert {e["action"] for e in by_action[("unit1", "od_reading", "when")]} == {"when"}
    assert len(by_action[("unit1", "od_reading", "start")]) == 1
    # every unit action is its own operation, requested by the profile, started at its time, never twice
    ops = {o["id"]: o for o in children(cluster, run["id"])}
    with_ops = [e for e in plan if e.get("operation_id")]
    assert len(with_ops) == len({e["operation_id"] for e in with_ops}) == len(ops)
    for e in with_ops:
        child = ops[e["operation_id"]]
        assert child["trigger"] == "profile" and child["status"] == "succeeded", child
        started = _epoch(child["created_at"])
        assert _epoch(e["at"]) - 0.5 <= started <= _epoch(e["at"]) + LATE, (e, child["created_at"])
    kinds = sorted(ops[e["operation_id"]]["kind"] for e in with_ops if e["unit"] == "unit2")
    assert kinds == ["job.pause", "job.resume"] + ["job.settings"] * 4 + ["job.start", "job.stop"]
    messages = logs(cluster)
    assert "rpm on unit1 is 430.0" in messages and "rpm on unit2 is 430.0" in messages
    assert "unit2 stirs" in messages and "never logged" not in messages
    assert "od after od_reading waited" in messages
    wait_for(lambda: all(running(cluster, a) == [] for a in cluster.agents), 15, 0.2, "every job stopped")


def test_dry_run_touches_no_unit(cluster: Cluster) -> None:
    r = cluster.api("POST", "/api/experiments/exp/profiles/long/run", json={"dry_run": True})
    assert r.status_code == 202
    run_id = r.json()["operation"]["id"]
    # the first action is due at once; the stop at 1 h keeps the run open: cancel ends it
    wait_for(
        lambda: any(e["status"] == "done" for e in op(cluster, run_id)["plan"]), 10, 0.2, "dry-run start"
    )
    start = next(e for e in op(cluster, run_id)["plan"] if e["action"] == "start")
    assert start["detail"].startswith("dry run: would start stirring") and start.get("operation_id") is None
    assert all(running(cluster, a) == [] for a in cluster.agents)
    assert cluster.api("POST", f"/api/operations/{run_id}/cancel").status_code == 202
    final = finished(cluster, run_id, 15)
    assert final["status"] == "cancelled"
    assert children(cluster, run_id) == []


def test_cancel_stops_the_jobs_it_started(cluster: Cluster) -> None:
    run_id = start_run(cluster, "long")
    wait_for(
        lambda: all(running(cluster, a) == ["stirring"] for a in cluster.agents), 15, 0.2, "stirring started"
    )
    assert cluster.api("POST", f"/api/operations/{run_id}/cancel").status_code == 202
    final = finished(cluster, run_id, 15)
    assert final["status"] == "cancelled"
    assert [e["status"] for e in final["plan"] if e["action"] == "stop"] == ["skipped", "skipped"]
    wait_for(lambda: all(running(cluster, a) == [] for a in cluster.agents), 15, 0.2, "stirring stopped")
    stops = [o for o in children(cluster, run_id) if o["kind"] == "job.stop"]
    assert len(stops) == 1 and sorted(stops[0]["targets"]) == UNITS


def test_worker_killed_mid_profile_finishes_with_no_action_twice(cluster: Cluster) -> None:
    run_id = start_run(cluster, "restart")
    wait_for(lambda: iterations(cluster, run_id) >= 4, 20, 0.1, "two iterations on each unit")
    cluster.restart_leader_worker()  # SIGKILL mid-profile, then a new worker
    final = finished(cluster, run_id, 40)
    assert_ticked_once_each(cluster, final, run_id)
    wait_for(lambda: all(running(cluster, a) == [] for a in cluster.agents), 15, 0.2, "every job stopped")

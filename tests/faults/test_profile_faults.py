"""A profile run while the broker dies and comes back: the run goes on from the store (its actions reach the
agents over HTTP, not MQTT), every action fires once, it finishes, and the ingest follows the jobs again.

The leader worker killed mid-profile and while schedules fire is in tests/cluster (test_profiles.py,
test_schedules_cluster.py); here the broker is the fault. Real processes, a broker of the test's own.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from devcluster.broker import Broker
from devcluster.cluster import Cluster
from devcluster.procs import wait_for
from tests.profile_runs import (
    assert_ticked_once_each,
    finished,
    iterations,
    profile_cluster,
    running,
    start_run,
    ticking,
)

pytestmark = [pytest.mark.timeout(180)]


@pytest.fixture
def cluster(tmp_path: Path, fresh_broker: Broker) -> Iterator[Cluster]:
    with profile_cluster(tmp_path / "cluster", fresh_broker, {"broker": ticking("survives the broker")}) as c:
        yield c


def _running_in_leader(cluster: Cluster) -> set[str]:
    jobs = cluster.api("GET", "/api/experiments/exp/jobs/running").json()
    return {j["unit"] for j in jobs if j["job_name"] == "stirring"}


def test_broker_killed_and_restarted_mid_profile_the_run_continues(
    cluster: Cluster, fresh_broker: Broker
) -> None:
    run_id = start_run(cluster, "broker")
    wait_for(lambda: iterations(cluster, run_id) >= 2, 30, 0.1, "the first iteration on each unit")
    fresh_broker.stop()  # mid-profile: the repeat goes on, the stop at 10 s is still ahead
    wait_for(lambda: iterations(cluster, run_id) >= 6, 30, 0.1, "iterations while the broker is down")
    fresh_broker.start()
    final = finished(cluster, run_id, 60)
    assert_ticked_once_each(cluster, final, run_id)
    every = cluster.api("GET", "/api/operations?limit=500").json()["operations"]
    assert all(o["status"] not in ("queued", "running") for o in every), every
    wait_for(lambda: all(running(cluster, a) == [] for a in cluster.agents), 15, 0.2, "jobs stopped")
    # the ingest reconnected to the restarted broker and saw the jobs end: nothing stays `running`
    wait_for(
        lambda: _running_in_leader(cluster) == set(), 30, 0.2, "the leader's store sees the jobs stopped"
    )

"""The broker dies during a fan-out: the operation still finishes (nothing stays `running`), and once the
broker is back the cluster acts and ingests again. Real processes (devcluster), a broker of the test's own."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from devcluster.broker import Broker
from devcluster.cluster import Cluster
from devcluster.procs import wait_for

FINISHED = {"succeeded", "partial", "failed", "cancelled", "interrupted"}


@pytest.fixture
def cluster(tmp_path: Path, fresh_broker: Broker) -> Iterator[Cluster]:
    c = Cluster(tmp_path / "cluster", units=2, broker=fresh_broker)
    c.start()
    try:
        assert c.api("POST", "/api/experiments", json={"name": "exp"}).status_code == 201
        c.api("PUT", "/api/experiments/exp/units", json={"units": ["unit1", "unit2"]})
        yield c
    finally:
        c.stop()


def test_broker_killed_mid_fanout_the_operation_finishes_and_service_resumes(
    cluster: Cluster, fresh_broker: Broker
) -> None:
    answer: dict[str, Any] = {}

    def start() -> None:
        answer.update(cluster.api("POST", "/api/experiments/exp/jobs/stirring/start?wait=30", json={}).json())

    t = threading.Thread(target=start)
    t.start()
    fresh_broker.stop()  # while the fan-out runs
    t.join(60)
    op_id = answer["operation"]["id"]
    wait_for(
        lambda: cluster.api("GET", f"/api/operations/{op_id}").json()["operation"]["status"] in FINISHED,
        90,
        0.2,
        what="the operation finished although the broker died",
    )
    fresh_broker.start()

    def stirring_everywhere() -> bool:
        jobs = cluster.api("GET", "/api/experiments/exp/jobs/running").json()
        return {j["unit"] for j in jobs if j["job_name"] == "stirring"} == {"unit1", "unit2"}

    op = cluster.api("POST", "/api/experiments/exp/jobs/stirring/start?wait=30", json={}).json()["operation"]
    assert op["status"] in FINISHED, op
    # the ingest reconnected: the jobs' states reach the leader's store again
    wait_for(stirring_everywhere, 60, 0.2, what="job states ingested after the broker came back")
    stop = cluster.api("POST", "/api/experiments/exp/jobs/stop?wait=30", json={}).json()["operation"]
    assert stop["status"] == "succeeded", stop

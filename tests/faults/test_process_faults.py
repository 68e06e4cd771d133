"""Processes die mid-action: the broker during a fan-out, an agent's worker mid-task. The operation still
finishes (nothing stays `running`); with the broker back the cluster acts and ingests again.
Real processes (devcluster), a broker of the test's own."""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator
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


def _start_stirring_while(cluster: Cluster, fault: Callable[[], None], what: str) -> dict[str, Any]:
    """Start stirring on both units, cause `fault` while the fan-out runs, and wait for the operation to
    finish all the same; the finished operation."""
    answer: dict[str, Any] = {}

    def start() -> None:
        answer.update(cluster.api("POST", "/api/experiments/exp/jobs/stirring/start?wait=30", json={}).json())

    t = threading.Thread(target=start)
    t.start()
    fault()
    t.join(60)
    op_id = answer["operation"]["id"]
    return wait_for(  # type: ignore[no-any-return]
        lambda: (
            (op := cluster.api("GET", f"/api/operations/{op_id}").json()["operation"])["status"] in FINISHED
            and op
        ),
        90,
        0.2,
        what=f"the operation finished although {what}",
    )


def test_broker_killed_mid_fanout_the_operation_finishes_and_service_resumes(
    cluster: Cluster, fresh_broker: Broker
) -> None:
    _start_stirring_while(cluster, fresh_broker.stop, "the broker died")
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


def test_agent_worker_killed_mid_task_the_step_fails_with_a_reason(cluster: Cluster) -> None:
    """An agent's worker (the one that runs `pio`) dies while the fan-out waits on it."""
    victim = cluster.agents[0]
    assert victim.worker is not None
    worker = victim.worker
    op = _start_stirring_while(cluster, lambda: worker.kill(signal.SIGKILL), "an agent's worker died")
    steps = {s["unit"]: s for s in op["steps"]}
    assert steps["unit2"]["status"] == "ok", op
    # the killed worker either finished the start before dying or its step names why it did not
    assert steps["unit1"]["status"] == "ok" or steps["unit1"]["detail"], op

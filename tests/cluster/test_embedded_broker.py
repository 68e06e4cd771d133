"""The laptop path of `make run`: a whole cluster on the embedded broker (no mosquitto binary)."""

from __future__ import annotations

from pathlib import Path

import pytest

from devcluster.broker import Broker
from devcluster.cluster import Cluster
from devcluster.procs import wait_for


def test_cluster_works_on_the_embedded_broker(tmp_path: Path) -> None:
    pytest.importorskip("amqtt", reason="amqtt (the embedded broker) is not installed")
    broker = Broker(tmp_path / "broker", embedded=True).start()
    cluster = Cluster(tmp_path / "cluster", units=2, broker=broker)
    try:
        cluster.start()
        cluster.seed_demo_experiment("demo")
        op = cluster.api("POST", "/api/experiments/demo/jobs/stirring/start?wait=20", json={}).json()
        assert op["operation"]["status"] == "succeeded", cluster.logs()
        body = {"settings": {"target_rpm": 400}}
        op = cluster.api("PATCH", "/api/experiments/demo/jobs/stirring/settings?wait=20", json=body).json()
        assert [s["detail"] for s in op["operation"]["steps"]] == ["echoed target_rpm=400.0"] * 2
        # the ingest's persistent QoS-1 session works on it: states and settings arrive in the store
        jobs = wait_for(
            lambda: (
                [
                    (j["unit"], j["settings"].get("target_rpm"))
                    for j in cluster.api("GET", "/api/experiments/demo/jobs/running").json()
                ]
                == [("unit1", 400.0), ("unit2", 400.0)]
            ),
            20,
            0.2,
            "ingested settings",
        )
        assert jobs
        units = cluster.api("GET", "/api/units").json()
        assert [(u["presence"], bool(u["last_seen"])) for u in units] == [("online", True)] * 2
    finally:
        cluster.stop()
        broker.stop()

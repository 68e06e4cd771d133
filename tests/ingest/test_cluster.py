"""The ingest inside the real leader worker (`python -m leader.worker`), fed by real agents (pio-sim):
presence (`offline` after a clean stop, `lost` after a crash) and last seen in /api/units, running jobs
from the store, logs."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest

from devcluster.cluster import Cluster
from devcluster.procs import wait_for

pytestmark = [pytest.mark.cluster, pytest.mark.timeout(120)]


def test_worker_ingests_presence_jobs_and_logs(tmp_path: Path) -> None:
    with Cluster(tmp_path, units=2, sim_speed=20, web_workers=1) as cluster:

        def units() -> dict[str, dict]:
            return {u["name"]: u for u in cluster.api("GET", "/api/units").json()}

        wait_for(lambda: all(u["presence"] == "online" for u in units().values()), 30, 0.2, "agents online")
        assert cluster.api("POST", "/api/experiments", json={"name": "exp"}).status_code == 201
        assert cluster.api("PUT", "/api/experiments/exp/units", json={"units": ["unit1", "unit2"]}).ok
        r = cluster.api("POST", "/api/experiments/exp/jobs/stirring/start?wait=20", json={})
        assert r.status_code == 202 and r.json()["operation"]["status"] == "succeeded", cluster.logs()

        def running() -> list[dict]:
            return cluster.api("GET", "/api/experiments/exp/jobs/running").json()

        jobs = wait_for(lambda: len(running()) == 2 and running(), 20, 0.2, "stirring running on both")
        assert {j["unit"] for j in jobs} == {"unit1", "unit2"}
        assert all(j["state"] == "ready" and "target_rpm" in j["settings"] for j in jobs)
        logs = cluster.api("GET", "/api/logs", params={"experiment": "exp", "job": "stirring"}).json()
        assert {e["unit"] for e in logs["logs"]} == {"unit1", "unit2"}
        assert all(u["last_seen"] for u in units().values())  # live messages since the ingest started

        agent = cluster.agents[1]
        for proc in (agent.web, agent.worker):
            assert proc is not None
            proc.stop()
        wait_for(lambda: units()["unit2"]["presence"] == "offline", 20, 0.2, "unit2 offline")
        assert units()["unit1"]["presence"] == "online"

        # a worker killed outright says no goodbye: the broker fires its last will
        agent.start_worker()
        wait_for(lambda: units()["unit2"]["presence"] == "online", 30, 0.2, "unit2 online again")
        assert agent.worker is not None
        agent.worker.kill(signal.SIGKILL)
        wait_for(lambda: units()["unit2"]["presence"] == "lost", 20, 0.2, "unit2 lost")
        assert units()["unit1"]["presence"] == "online"

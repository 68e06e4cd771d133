"""Worker behaviour on an agent of its own: plugin changes when enabled, tasks that waited too long."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from devcluster.broker import Broker
from devcluster.procs import wait_for
from tests.agent.harness import AgentProc, spied_sim_agent

MAX_AGE = 2.0


@pytest.fixture(scope="module")
def plugin_agent(mqtt_broker: Broker, tmp_path_factory: pytest.TempPathFactory) -> Iterator[AgentProc]:
    base = tmp_path_factory.mktemp("agent_plugins")
    wheels = base / "wheels"  # an empty local mirror: pip never reaches an index from this test
    wheels.mkdir()
    with spied_sim_agent(
        base, mqtt_broker, "plug", allow_plugins=True, task_max_age=MAX_AGE, plugins_find_links=str(wheels)
    ) as agent:
        yield agent


def test_plugin_install_when_enabled(plugin_agent: AgentProc) -> None:
    body = {"name": "pioreactor-relay-plugin", "version": "1.2.3"}
    result = plugin_agent.task("POST", "/unit_api/plugins/install", body)
    # a real install into the unit's pio environment: a plugin the mirror lacks fails, saying which and why
    # (a wheel that installs, lists and uninstalls: tests/cluster/test_fleet_cluster.py)
    assert result["status"] == "failed", result
    assert "pio plugins install pioreactor-relay-plugin failed" in result["error"], result
    for bad in ({"name": "--index-url=http://evil"}, {"name": "ok", "version": "-e ."}, {"name": "a b"}):
        status, answer = plugin_agent.request("POST", "/unit_api/plugins/install", bad)
        assert status == 400 and "$." in answer["message"], answer


def test_task_queued_while_worker_down_expires_instead_of_running(plugin_agent: AgentProc) -> None:
    assert plugin_agent.worker is not None
    plugin_agent.worker.stop()
    posted = time.time()
    status, answer = plugin_agent.request("POST", "/unit_api/jobs/run/job_name/stirring", {})
    assert status == 202
    for _ in range(2):
        assert plugin_agent.get(answer["result_url_path"]) == (
            202,
            {"status": "pending", "result": None, "error": None},
        )
    wait_for(lambda: time.time() - posted > MAX_AGE, MAX_AGE + 1, 0.05, what="the task to be too old")
    plugin_agent.start_worker()

    def finished() -> dict | None:  # type: ignore[type-arg]
        code, result = plugin_agent.get(answer["result_url_path"])
        return result if code == 200 else None

    result = wait_for(finished, 20, 0.05, what="expired task")
    assert result["status"] == "failed" and result["error"].startswith("Expired")
    assert "run stirring" not in Path(plugin_agent.calls).read_text()

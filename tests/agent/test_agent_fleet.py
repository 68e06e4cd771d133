"""The agent's status heartbeat: versions and health on its own retained topic, pio asked once per install."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from cluster_schema import topics
from devcluster.broker import Broker
from devcluster.procs import wait_for
from tests.agent.harness import AgentProc, spied_sim_agent


@pytest.fixture(scope="module")
def agent(mqtt_broker: Broker, tmp_path_factory: pytest.TempPathFactory) -> Iterator[AgentProc]:
    with spied_sim_agent(
        tmp_path_factory.mktemp("agent_fleet"),
        mqtt_broker,
        "fleet",
        heartbeat_interval=1.0,
        heartbeat_check=0.2,
    ) as a:
        yield a


def _version_calls(agent: AgentProc) -> int:
    assert agent.calls is not None
    return sum(1 for line in agent.calls.read_text().splitlines() if line.strip() == "version")


def test_status_is_retained_on_the_agents_topic_with_versions_and_health(
    agent: AgentProc, subscriber
) -> None:  # type: ignore[no-untyped-def]
    sub = subscriber(topics.status_topic(agent.unit))
    found = wait_for(
        lambda: sub.find(lambda m: m[2]), timeout=20, what="the retained status"
    )  # retained first
    status = json.loads(found[0][1])
    assert status["unit"] == agent.unit and status["versions"]["pio"] == "26.11.1"
    assert set(status["versions"]) == {"agent", "pio", "python", "schema"}
    assert status["disk_free_bytes"] > 0 and status["memory_total_bytes"] > 0 and status["running_jobs"] == 0
    assert status["worker_alive"] is True and status["interval"] == 1.0
    # a periodic heartbeat (live, not retained) follows within the interval
    wait_for(lambda: sub.find(lambda m: not m[2]), timeout=20, what="a live heartbeat")
    # the presence topic keeps its meaning: still the agent's online/offline
    pres = subscriber(topics.presence_topic(agent.unit))
    wait_for(lambda: pres.find(lambda m: b"online" in m[1]), timeout=20, what="presence online")


def test_pio_version_is_asked_once_per_install(agent: AgentProc, subscriber) -> None:  # type: ignore[no-untyped-def]
    before = _version_calls(agent)
    assert before == 1, "asked once at the worker's start"
    sub = subscriber(topics.status_topic(agent.unit))
    for _ in range(20):
        assert agent.get("/unit_api/versions")[1]["pio"] == "26.11.1"
    wait_for(lambda: len(sub.find(lambda m: not m[2])) >= 2, timeout=20, what="two more heartbeats")
    assert _version_calls(agent) == before, "reads and heartbeats never run pio again"
    spy = Path(str(agent.values["pio"]))
    st = spy.stat()
    os.utime(spy, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))  # "a new install"
    wait_for(lambda: _version_calls(agent) == before + 1, timeout=20, what="pio asked again after it changed")
    assert agent.get("/unit_api/versions")[1]["pio"] == "26.11.1"

"""Fixtures of the agent tests: agents on a pio-sim unit and on a real-pio unit, MQTT subscribers."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from typing import Any

import pytest

from devcluster.broker import Broker
from devcluster.units import make_real_unit, real_pio_unavailable_reason
from tests.agent.harness import AgentProc, Subscriber, spied_sim_agent


@pytest.fixture
def subscriber(mqtt_broker: Broker) -> Iterator[Any]:
    made: list[Subscriber] = []

    def make(topic: str, broker: Broker = mqtt_broker) -> Subscriber:
        made.append(Subscriber(broker, topic))
        return made[-1]

    yield make
    for s in made:
        s.close()


@pytest.fixture(scope="module")
def sim_agent(mqtt_broker: Broker, tmp_path_factory: pytest.TempPathFactory) -> Iterator[AgentProc]:
    """One agent on a pio-sim unit, shared by a module's tests; its `pio` is a spy noting every call."""
    with spied_sim_agent(tmp_path_factory.mktemp("agent_sim"), mqtt_broker, "sim") as agent:
        yield agent


@pytest.fixture(scope="module")
def real_agent(mqtt_broker: Broker, tmp_path_factory: pytest.TempPathFactory) -> Iterator[AgentProc]:
    reason = real_pio_unavailable_reason()
    if reason:
        pytest.skip(reason)
    base = tmp_path_factory.mktemp("agent_real")
    unit = f"real{secrets.token_hex(3)}"
    wrapper = make_real_unit(base / "unit", unit, mqtt_broker.host, mqtt_broker.port)
    agent = AgentProc(base, unit, mqtt_broker, wrapper, base / "unit").start()
    try:
        yield agent
    finally:
        agent.request("POST", "/unit_api/jobs/stop", {"all_jobs": True})
        agent.close()

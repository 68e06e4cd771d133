"""Shared fixtures: a real MQTT broker per test session (per xdist worker) and process helpers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from devcluster.broker import MOSQUITTO, Broker
from devcluster.cleanup import stop_all_tracked

REPO = Path(__file__).resolve().parent.parent


def pytest_report_header(config: pytest.Config) -> str:
    if MOSQUITTO:
        return f"mqtt broker: mosquitto ({MOSQUITTO})"
    return "mqtt broker: EMBEDDED amqtt broker - no mosquitto binary found on this machine"


@pytest.fixture(scope="session", autouse=True)
def _stop_leftover_jobs() -> Iterator[None]:
    """Jobs are detached from the agents that start them; stop any a test's own teardown missed."""
    yield
    stop_all_tracked()


@pytest.fixture(scope="session")
def mqtt_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Broker]:
    broker = Broker(tmp_path_factory.mktemp("broker")).start()
    try:
        yield broker
    finally:
        broker.stop()


@pytest.fixture
def fresh_broker(tmp_path: Path) -> Iterator[Broker]:
    """A broker of the test's own, for tests that stop or restart it."""
    broker = Broker(tmp_path / "broker").start()
    try:
        yield broker
    finally:
        broker.stop()

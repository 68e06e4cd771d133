"""Shared fixtures: a real MQTT broker per test session (per xdist worker) and process helpers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from _pytest.nodeid import NodeId

from devcluster.broker import MOSQUITTO, Broker
from devcluster.cleanup import stop_all_tracked

REPO = Path(__file__).resolve().parent.parent


def pytest_report_header(config: pytest.Config) -> str:
    if MOSQUITTO:
        return f"mqtt broker: mosquitto ({MOSQUITTO})"
    return "mqtt broker: EMBEDDED amqtt broker - no mosquitto binary found on this machine"


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Keep `xdist_group` working (`make test` runs `--dist loadgroup`): pytest-xdist 3.8 names a test's
    group by appending `@group` to `item._nodeid`, which pytest 9.2 no longer reads (a node's id is
    `item._id`), so every group was silently split across the workers: a module's tests each started the
    module's cluster again, and a test relying on an earlier one of its module could run without it."""
    if not getattr(config.option, "loadgroup", False):
        return  # not an xdist worker, or another distribution mode
    for item in items:
        names = {
            str(m.args[0] if m.args else m.kwargs.get("name", "default"))
            for m in item.iter_markers("xdist_group")
        }
        if names and "@" not in item.nodeid:
            item._id = NodeId.parse(f"{item.nodeid}@{'_'.join(sorted(names))}")  # type: ignore[attr-defined]


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

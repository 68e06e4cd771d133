"""Every conformance scenario runs twice: against pio-sim and against the real pio 26.11.1 (testing mode)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from devcluster.broker import Broker
from devcluster.units import real_pio_unavailable_reason

from .unit import PioUnit, pio_unit


@pytest.fixture(params=["sim", pytest.param("real", marks=pytest.mark.real_pio)])
def impl(request: pytest.FixtureRequest) -> str:
    if request.param == "real":
        reason = real_pio_unavailable_reason()
        if reason:
            pytest.skip(reason)
    return str(request.param)


@pytest.fixture
def unit(impl: str, tmp_path: Path, mqtt_broker: Broker, request: pytest.FixtureRequest) -> Iterator[PioUnit]:
    """A fresh unit with names of its own, so tests can share the session broker."""
    slug = re.sub(r"[^a-z0-9]+", "-", request.node.name.lower()).strip("-")[-40:]
    with pio_unit(impl, tmp_path / "unit", f"u-{slug}", f"exp-{slug}", mqtt_broker) as handle:
        yield handle

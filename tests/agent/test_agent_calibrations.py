"""Calibrations the test writes into a unit's storage, listed and made active through the agent: with the
real `pio` 26.11.1 (skipped without Python 3.13) and with pio-sim, which must behave the same."""

from __future__ import annotations

import pytest

from tests.agent.harness import AgentProc
from tests.cluster.test_fleet_cluster import CALIBRATION


@pytest.fixture(params=["sim_agent", pytest.param("real_agent", marks=pytest.mark.real_pio)])
def agent(request: pytest.FixtureRequest) -> AgentProc:
    return request.getfixturevalue(request.param)


def test_calibrations_listed_and_set_active(agent: AgentProc) -> None:
    folder = agent.paths.dot / "storage" / "calibrations" / "od90"
    folder.mkdir(parents=True, exist_ok=True)
    for name in ("fleet_a", "fleet_b"):
        (folder / f"{name}.yaml").write_text(CALIBRATION.format(name=name, unit=agent.unit))
    status, listed = agent.get("/unit_api/calibrations")
    assert status == 200
    ours = {c["name"] for c in listed["calibrations"] if c["device"] == "od90"}
    assert {"fleet_a", "fleet_b"} <= ours
    for name in ("fleet_b", "fleet_a"):
        result = agent.task("PATCH", f"/unit_api/active_calibrations/od90/{name}")
        assert result["status"] == "complete", result
        _, found = agent.get("/unit_api/calibrations/od90")
        active = {c["name"] for c in found["calibrations"] if c["active"]}
        assert active == {name}
        assert "curve_data_" in next(c["content"] for c in found["calibrations"] if c["name"] == name)
    status, _ = agent.request("PATCH", "/unit_api/active_calibrations/od90/missing")
    assert status == 404

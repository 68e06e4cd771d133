"""The same scenarios with the real `pio` 26.11.1 (skipped where no Python 3.13 exists)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.agent.harness import AgentProc
from tests.agent.lifecycle import pause_resume_disconnect, run_change_stop, sigkill_behind_the_back

pytestmark = pytest.mark.real_pio


@pytest.fixture(autouse=True)
def _no_job_left_behind(real_agent: AgentProc) -> Iterator[None]:
    yield
    real_agent.stop_all_jobs()


def test_run_change_stop_real_pio(real_agent: AgentProc) -> None:
    run_change_stop(real_agent, "exp-real")


def test_pause_resume_and_disconnect_through_state_real_pio(real_agent: AgentProc) -> None:
    pause_resume_disconnect(real_agent, "exp-real")


def test_job_killed_behind_the_agents_back_real_pio(real_agent: AgentProc) -> None:
    sigkill_behind_the_back(real_agent, "exp-real")


def test_versions_and_plugins_from_real_pio(real_agent: AgentProc) -> None:
    assert real_agent.get("/unit_api/versions")[1]["pio"] == "26.11.1"
    assert real_agent.get("/unit_api/plugins") == (200, {"plugins": []})

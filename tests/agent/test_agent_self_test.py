"""`pio run self_test` through the agent's one way to run pio, on pio-sim and on the real pio 26.11.1
(testing mode, about a minute; skipped where no Python 3.13 exists): the agent answers once the self-test
runs, under `$experiment` (pio picks it, whatever the request says), and each of real pio's checks then
publishes its outcome, in real pio's order, before `all_tests_passed`."""

from __future__ import annotations

from typing import Any

import pytest

from devcluster.procs import wait_for
from tests.agent.harness import AgentProc
from unit_agent.sim.self_test import CHECKS


def _self_test(agent: AgentProc, subscriber: Any, timeout: float) -> list[tuple[str, bytes]]:
    head = f"pioreactor/{agent.unit}/$experiment/self_test/"
    sub = subscriber(head + "#")
    run = agent.task("POST", "/unit_api/jobs/run/job_name/self_test", {})
    assert run["status"] == "complete", run
    assert run["result"]["state"] in ("ready", "finished"), run["result"]
    assert run["result"]["experiment"] == "$experiment"
    verdict = wait_for(
        lambda: sub.find(lambda m: m[0] == head + "all_tests_passed" and m[1]), timeout, what="a verdict"
    )
    assert verdict[-1][1] in (b"0", b"1")
    wait_for(lambda: not any(j["job_name"] == "self_test" for j in agent.running()), 15, what="the end")
    return [
        (t.removeprefix(head), p) for t, p, _ in sub.find(lambda m: m[0].startswith(head + "test_") and m[1])
    ]


def test_self_test_through_the_agent_sim(sim_agent: AgentProc, subscriber: Any) -> None:
    outcomes = _self_test(sim_agent, subscriber, 60)
    assert outcomes == [(name, b"1") for name, _, _ in CHECKS]


@pytest.mark.real_pio
def test_self_test_through_the_agent_real_pio(real_agent: AgentProc, subscriber: Any) -> None:
    outcomes = _self_test(real_agent, subscriber, 240)
    # the same checks in the same order as the simulator's (and the leader's list); in testing mode some
    # fail (mocked hardware), which changes nothing for the agent
    assert [name for name, _ in outcomes] == [name for name, _, _ in CHECKS]
    assert {p for _, p in outcomes} <= {b"0", b"1"}

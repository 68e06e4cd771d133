"""Jobs through a real agent on a pio-sim unit: lifecycle, a job killed behind the agent's back, presence."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from cluster_schema import topics
from devcluster.procs import wait_for
from tests.agent.harness import AgentProc
from tests.agent.lifecycle import pause_resume_disconnect, run_change_stop, sigkill_behind_the_back


@pytest.fixture(autouse=True)
def _no_job_left_behind(sim_agent: AgentProc) -> Iterator[None]:
    yield
    sim_agent.stop_all_jobs()


def test_run_change_stop(sim_agent: AgentProc) -> None:
    run_change_stop(sim_agent, "exp-sim")


def test_pause_resume_and_disconnect_through_state(sim_agent: AgentProc) -> None:
    pause_resume_disconnect(sim_agent, "exp-sim")


def test_job_killed_behind_the_agents_back(sim_agent: AgentProc) -> None:
    sigkill_behind_the_back(sim_agent, "exp-sim")


def test_run_twice_is_already_running_and_one_shot_failures_carry_output(sim_agent: AgentProc) -> None:
    # two requests at once: one starts the job, the other finds it running (never a second process)
    answers = [sim_agent.request("POST", "/unit_api/jobs/run/job_name/stirring", {"experiment": "exp-twice"})]
    answers.append(
        sim_agent.request("POST", "/unit_api/jobs/run/job_name/stirring", {"experiment": "exp-twice"})
    )
    results = [
        wait_for(
            lambda a=a: (r := sim_agent.get(a[1]["result_url_path"]))[0] == 200 and r[1], 20, what="runs"
        )
        for a in answers
    ]
    assert sorted(r["result"]["state"] for r in results) == ["already_running", "ready"]
    assert results[0]["result"]["pid"] == results[1]["result"]["pid"]
    again = sim_agent.task("POST", "/unit_api/jobs/run/job_name/stirring", {"experiment": "exp-twice"})
    assert again["result"]["state"] == "already_running"
    sim_agent.task("POST", "/unit_api/jobs/stop", {"experiment": "exp-twice"})

    # a bad option value for the tool (not for the agent): pio itself exits 2, the result says so
    bad = sim_agent.task("POST", "/unit_api/jobs/run/job_name/stirring", {"options": {"target_rpm": "fast"}})
    assert bad["status"] == "complete"
    assert bad["result"]["state"] == "failed" and bad["result"]["exit_code"] == 2
    assert "target-rpm" in bad["result"]["output_tail"]


def test_quotes_and_spaces_in_values_stay_one_argument(sim_agent: AgentProc) -> None:
    value = 'it\'s a "quoted" välue --and-more'
    result = sim_agent.task(
        "POST", "/unit_api/jobs/run/job_name/stirring", {"options": {"target_rpm": value}}
    )
    assert result["result"]["state"] == "failed"  # pio refuses the text as a number (no shell unquoted it)
    assert result["result"]["exit_code"] == 2 and "target-rpm" in result["result"]["output_tail"]
    calls = sim_agent.calls.read_text()
    assert f"--target-rpm={value}" in calls


def test_presence_and_agent_logs(sim_agent: AgentProc, subscriber: Any) -> None:
    presence = subscriber(topics.presence_topic(sim_agent.unit))
    found = wait_for(lambda: presence.find(lambda m: m[2]), 10, what="retained presence")
    payload = json.loads(found[-1][1])
    assert payload["status"] == "online" and payload["unit"] == sim_agent.unit
    assert payload["agent_version"] and payload["pio_version"] and payload["schema_version"] >= 1

    logs = subscriber(f"pioreactor/{sim_agent.unit}/+/logs/agent/#")
    sim_agent.task("POST", "/unit_api/jobs/run/job_name/stirring", {"experiment": "exp-logs"})
    sim_agent.task("POST", "/unit_api/jobs/stop", {"job_name": "stirring"})
    lines = wait_for(
        lambda: logs.find(lambda m: m[0] == f"pioreactor/{sim_agent.unit}/exp-logs/logs/agent/info"),
        10,
        what="logs",
    )
    event = json.loads(lines[0][1])
    assert set(event) == {"message", "level", "task", "source", "timestamp"}
    assert event["level"] == "INFO" and event["source"] == "agent" and event["timestamp"].endswith("Z")
    assert any("stirring" in json.loads(m[1])["message"] for m in lines)

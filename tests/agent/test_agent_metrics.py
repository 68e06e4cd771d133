"""/unit_api/metrics on a real agent (gunicorn + Huey worker, pio-sim unit): format, credentials, counters."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from devcluster.broker import Broker
from tests.agent.harness import AgentProc, spied_sim_agent

METRICS_TOKEN = secrets.token_urlsafe(24)


@pytest.fixture(scope="module")
def agent(mqtt_broker: Broker, tmp_path_factory: pytest.TempPathFactory) -> Iterator[AgentProc]:
    base = tmp_path_factory.mktemp("agent_metrics")
    token_file = base / "metrics_token"
    fd = os.open(token_file, os.O_WRONLY | os.O_CREAT, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(METRICS_TOKEN + "\n")
    with spied_sim_agent(base, mqtt_broker, "met", metrics_token_file=str(token_file)) as a:
        yield a


def scrape(agent: AgentProc, token: str | None) -> requests.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return requests.get(agent.url + "/unit_api/metrics", headers=headers, timeout=10)


def samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    out = {}
    for family in text_string_to_metric_families(text):
        assert family.name.startswith("pioreactor_agent_"), family.name
        for s in family.samples:
            out[(s.name, frozenset(s.labels.items()))] = s.value
    return out


def value(found: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str) -> float:
    return found.get((name, frozenset(labels.items())), 0.0)


def test_credentials(agent: AgentProc) -> None:
    assert scrape(agent, None).status_code == 401
    assert scrape(agent, "wrong-" + METRICS_TOKEN).status_code == 401
    assert scrape(agent, agent.token).status_code == 200
    r = scrape(agent, METRICS_TOKEN)
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/plain")
    # the metrics token reads metrics only
    other = requests.get(
        agent.url + "/unit_api/jobs/running", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}, timeout=10
    )
    assert other.status_code == 401


def test_counters_move_when_a_job_runs(agent: AgentProc) -> None:
    unit = agent.unit
    before = samples(scrape(agent, METRICS_TOKEN).text)
    assert value(before, "pioreactor_agent_task_queue_depth", unit=unit) == 0
    assert value(before, "pioreactor_agent_process_resident_memory_bytes", unit=unit, process="web") > 1e6
    assert value(before, "pioreactor_agent_process_resident_memory_bytes", unit=unit, process="worker") > 1e6
    starts = value(before, "pioreactor_agent_pio_start_seconds_count", unit=unit)

    result = agent.task("POST", "/unit_api/jobs/run/job_name/stirring", {"experiment": "exp-metrics"})
    assert result["status"] == "complete" and result["result"]["state"] == "ready", result
    after = samples(scrape(agent, METRICS_TOKEN).text)
    assert value(after, "pioreactor_agent_jobs_running", unit=unit, job_name="stirring") == 1
    assert (
        value(after, "pioreactor_agent_job_starts_total", unit=unit, job_name="stirring", outcome="ready")
        >= 1
    )
    assert value(after, "pioreactor_agent_pio_start_seconds_count", unit=unit) == starts + 1
    assert value(after, "pioreactor_agent_pio_start_seconds_sum", unit=unit) > 0
    assert value(after, "pioreactor_agent_tasks", unit=unit, status="complete") >= 1

    agent.task("POST", "/unit_api/jobs/stop", {"job_name": "stirring"})
    stopped = samples(scrape(agent, METRICS_TOKEN).text)
    assert value(stopped, "pioreactor_agent_jobs_running", unit=unit, job_name="stirring") == 0


def test_metrics_public(mqtt_broker: Broker, tmp_path: Path) -> None:
    with spied_sim_agent(tmp_path, mqtt_broker, "pub", metrics_public=True) as a:
        assert scrape(a, None).status_code == 200
        assert requests.get(a.url + "/unit_api/jobs/running", timeout=10).status_code == 401

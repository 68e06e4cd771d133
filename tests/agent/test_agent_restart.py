"""A job outlives a restart of the agent's worker, the way systemd stops it (deploy's unit-agent-worker:
KillMode=process, so only the main process gets KillSignal), and the restarted worker still drives it."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

from devcluster.broker import Broker
from devcluster.procs import wait_for
from devcluster.units import make_sim_unit
from tests.agent.harness import UNIT_TEMPLATES, AgentProc, spied_sim_agent
from tests.agent.lifecycle import _alive, _stirring


def _unit_setting(service: str, key: str) -> str:
    text = (UNIT_TEMPLATES / f"{service}.j2").read_text()
    return next(line.split("=", 1)[1] for line in text.splitlines() if line.startswith(f"{key}="))


def test_a_job_outlives_a_restart_of_the_worker(mqtt_broker: Broker, tmp_path: Path) -> None:
    assert _unit_setting("unit-agent-worker.service", "KillMode") == "process"
    stop_signal = getattr(signal, _unit_setting("unit-agent-worker.service", "KillSignal"))
    stop_timeout = float(_unit_setting("unit-agent-worker.service", "TimeoutStopSec"))
    with spied_sim_agent(tmp_path, mqtt_broker, "restart") as agent:
        run = agent.task("POST", "/unit_api/jobs/run/job_name/stirring", {"experiment": "exp-restart"})
        assert run["result"]["state"] == "ready", run
        pid = run["result"]["pid"]

        # `systemctl restart unit-agent-worker`: KillSignal to the main process only, then a new one
        assert agent.worker is not None
        os.kill(agent.worker.pid, stop_signal)
        assert agent.worker.popen.wait(stop_timeout) == 0, agent.worker.output()[-2000:]
        agent.worker.stop()
        assert _alive(pid), "the job died with the worker"
        agent.start_worker()

        job = wait_for(lambda: _stirring(agent), 10, what="the job seen by the agent")
        assert job["pid"] == pid and job["experiment"] == "exp-restart"
        stopped = agent.task("POST", "/unit_api/jobs/stop", {"experiment": "exp-restart"})
        assert stopped["status"] == "complete", stopped
        wait_for(lambda: not _alive(pid), 15, what="the job to stop")


def _role_default(name: str) -> str:
    text = (UNIT_TEMPLATES.parent / "defaults" / "main.yml").read_text()
    return next(line.split(":", 1)[1].strip() for line in text.splitlines() if line.startswith(f"{name}:"))


def test_a_running_task_finishes_when_the_worker_is_stopped(mqtt_broker: Broker, tmp_path: Path) -> None:
    """`systemctl stop` mid-task: the worker, given the role's grace, lets a task longer than the built-in
    3 s finish and record its result, and exits 0 within the unit's TimeoutStopSec."""
    grace = float(_role_default("unit_agent_worker_shutdown_grace"))
    stop_signal = getattr(signal, _unit_setting("unit-agent-worker.service", "KillSignal"))
    stop_timeout = float(_unit_setting("unit-agent-worker.service", "TimeoutStopSec"))
    assert 3.0 < grace < stop_timeout
    unit = f"grace{os.getpid()}"
    wrapper = make_sim_unit(tmp_path / "unit", unit, mqtt_broker.host, mqtt_broker.port)
    started, finished = tmp_path / "started", tmp_path / "finished"
    slow = (
        tmp_path / "pio-slow"
    )  # `pio plugins list` takes 6 s (twice the built-in grace); the rest is pio-sim
    slow.write_text(
        f'#!/bin/sh\nif [ "$1" = plugins ]; then\n  touch {started}; sleep 6; touch {finished}\n'
        f'  echo "[]"; exit 0\nfi\nexec {wrapper} "$@"\n'
    )
    slow.chmod(0o755)
    agent = AgentProc(
        tmp_path, unit, mqtt_broker, slow, tmp_path / "unit", worker_shutdown_grace=grace
    ).start()
    try:
        answer: list[tuple[int, object]] = []
        asking = threading.Thread(target=lambda: answer.append(agent.get("/unit_api/plugins")))
        asking.start()
        wait_for(started.exists, 15, what="the task to start")
        assert agent.worker is not None
        stopped_at = time.monotonic()
        os.kill(agent.worker.pid, stop_signal)
        assert agent.worker.popen.wait(stop_timeout) == 0, agent.worker.output()[-2000:]
        took = time.monotonic() - stopped_at
        asking.join(30)
        assert finished.exists() and answer == [(200, {"plugins": []})], answer
        print(
            f"stopped mid-task in {took:.1f} s (task 6 s, grace {grace:g} s, TimeoutStopSec {stop_timeout:g})"
        )
    finally:
        agent.close()

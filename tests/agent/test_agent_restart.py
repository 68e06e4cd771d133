"""A job outlives a restart of the agent's worker, the way systemd stops it (deploy's unit-agent-worker:
KillMode=process, so only the main process gets KillSignal), and the restarted worker still drives it."""

from __future__ import annotations

import os
import signal
from pathlib import Path

from devcluster.broker import Broker
from devcluster.procs import wait_for
from tests.agent.harness import UNIT_TEMPLATES, spied_sim_agent
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

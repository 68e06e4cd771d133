"""The agent and its broker: the API keeps working while the broker is down, the agent reconnects by itself,
its last will says `lost` when the worker dies, and finished results expire after `result_ttl`."""

from __future__ import annotations

import json
import signal
import time
from pathlib import Path
from typing import Any

from cluster_schema import topics
from devcluster.broker import Broker
from devcluster.procs import wait_for
from devcluster.units import make_sim_unit
from tests.agent.harness import AgentProc


def _presence(sub: Any, status: str, after: str = "") -> dict[str, Any]:
    def seen() -> dict[str, Any] | None:
        for _t, payload, _r in reversed(sub.find(lambda m: True)):
            body = json.loads(payload)
            if body["status"] == status and body["timestamp"] > after:
                return dict(body)
        return None

    return wait_for(seen, 15, what=f"presence {status}")


def test_broker_down_reconnect_last_will_and_expiry(
    fresh_broker: Broker, tmp_path: Path, subscriber: Any
) -> None:
    unit = "brokerunit"
    wrapper = make_sim_unit(tmp_path / "unit", unit, fresh_broker.host, fresh_broker.port)
    agent = AgentProc(tmp_path, unit, fresh_broker, wrapper, tmp_path / "unit", result_ttl=3).start()
    try:
        presence = subscriber(topics.presence_topic(unit), fresh_broker)
        first = _presence(presence, "online")

        run = agent.task("POST", "/unit_api/jobs/run/job_name/stirring", {"experiment": "exp-b"})
        assert run["result"]["state"] == "ready"
        fresh_broker.stop()
        # HTTP keeps answering from the registry and the store while the broker is gone
        assert agent.request("GET", "/unit_api/health", token=None)[0] == 200
        assert [j["job_name"] for j in agent.running()] == ["stirring"]
        assert agent.get(f"/unit_api/task_results/{run['task_id']}")[0] == 200
        change = agent.task(
            "PATCH", "/unit_api/jobs/settings/job_name/stirring", {"settings": {"target_rpm": 300}}
        )
        assert change["status"] == "failed" and "broker" in change["error"]
        stop = agent.task("POST", "/unit_api/jobs/stop", {"job_name": "stirring"})
        assert stop["result"]["stopped"] == ["stirring"]

        fresh_broker.start()
        again = subscriber(topics.presence_topic(unit), fresh_broker)
        assert _presence(again, "online", after=first["timestamp"])["unit"] == unit  # reconnected by itself

        assert agent.worker is not None
        agent.worker.kill(signal.SIGKILL)
        assert _presence(again, "lost")["unit"] == unit  # the last will: vanished without a goodbye

        # results expire `result_ttl` after they finished: then they are unknown
        finished = time.monotonic()
        wait_for(
            lambda: agent.get(f"/unit_api/task_results/{run['task_id']}")[0] == 404, 10, 0.2, what="expiry"
        )
        assert time.monotonic() - finished < 10
    finally:
        agent.close()

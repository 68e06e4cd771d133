"""The leader driving real agents (gunicorn + huey consumer, pio-sim units) through its /api.

One cluster (broker, three agents, leader web and worker) is shared by the module; tests that break a
process put it back before they end.
"""

from __future__ import annotations

import json
import os
import re
import signal
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests

from devcluster.broker import Broker
from devcluster.cluster import Agent, Cluster
from devcluster.procs import wait_for

pytestmark = [pytest.mark.cluster, pytest.mark.xdist_group("leader_cluster"), pytest.mark.timeout(120)]

UNITS = ["unit1", "unit2", "unit3"]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory, mqtt_broker: Broker) -> Iterator[Cluster]:
    c = Cluster(tmp_path_factory.mktemp("cluster"), units=3, broker=mqtt_broker)
    c.start()
    try:
        assert c.api("POST", "/api/experiments", json={"name": "exp"}).status_code == 201
        assert c.api("PUT", "/api/experiments/exp/units", json={"units": UNITS}).json()["units"] == UNITS
        yield c
    finally:
        c.stop()


@pytest.fixture
def clean(cluster: Cluster) -> Iterator[Cluster]:
    yield cluster
    op = cluster.api("POST", "/api/experiments/exp/jobs/stop?wait=25", json={}).json()["operation"]
    assert op["status"] == "succeeded", op


def _agent_get(agent: Agent, cluster: Cluster, path: str) -> object:
    r = requests.get(
        agent.url + path, headers={"Authorization": f"Bearer {cluster.cluster_token}"}, timeout=5
    )
    r.raise_for_status()
    return r.json()


def _running(cluster: Cluster, agent: Agent) -> list[str]:
    jobs = _agent_get(agent, cluster, "/unit_api/jobs/running")
    assert isinstance(jobs, list)
    return [j["job_name"] for j in jobs]


def _steps(op: dict) -> dict[str, tuple[str, str]]:  # type: ignore[type-arg]
    return {s["unit"]: (s["status"], s["detail"]) for s in op["steps"]}


def test_start_change_settings_stop_on_three_units(clean: Cluster) -> None:
    cluster = clean
    r = cluster.api(
        "POST", "/api/experiments/exp/jobs/stirring/start?wait=25", json={"options": {"target_rpm": 400}}
    )
    assert r.status_code == 202 and r.headers["Location"] == f"/api/operations/{r.json()['operation']['id']}"
    op = r.json()["operation"]
    assert op["status"] == "succeeded", cluster.logs()
    steps = _steps(op)
    assert sorted(steps) == UNITS and all(s == "ok" and "ready" in d for s, d in steps.values())
    assert all(_running(cluster, a) == ["stirring"] for a in cluster.agents)

    def running_rpm() -> dict[str, float]:  # from MQTT ingest in the leader worker
        jobs = cluster.api("GET", "/api/experiments/exp/jobs/running").json()
        return {
            j["unit"]: float(j["settings"].get("target_rpm", 0)) for j in jobs if j["job_name"] == "stirring"
        }

    wait_for(
        lambda: running_rpm() == dict.fromkeys(UNITS, 400.0), 10, 0.1, "running jobs with target_rpm 400"
    )
    units = cluster.api("GET", "/api/units").json()
    assert {u["name"]: u["presence"] for u in units} == dict.fromkeys(UNITS, "online")

    r = cluster.api(
        "PATCH", "/api/experiments/exp/jobs/stirring/settings?wait=25", json={"settings": {"target_rpm": 555}}
    )
    op = r.json()["operation"]
    assert op["status"] == "succeeded", op
    assert all(s == "ok" and "target_rpm=555" in d for s, d in _steps(op).values())
    for agent in cluster.agents:
        settings = _agent_get(agent, cluster, "/unit_api/jobs/settings/job_name/stirring")
        assert isinstance(settings, dict) and float(settings["settings"]["target_rpm"]) == 555
    wait_for(lambda: running_rpm() == dict.fromkeys(UNITS, 555.0), 10, 0.1, "target_rpm 555 everywhere")

    op = cluster.api("POST", "/api/experiments/exp/jobs/stirring/stop?wait=25", json={}).json()["operation"]
    assert op["status"] == "succeeded" and all(s == "ok" for s, _ in _steps(op).values())
    assert all(_running(cluster, a) == [] for a in cluster.agents)
    wait_for(lambda: running_rpm() == {}, 10, 0.1, "no running stirring jobs")


def test_one_stopped_agent_makes_the_operation_partial(clean: Cluster) -> None:
    cluster = clean
    frozen = cluster.agents[1]
    assert frozen.web is not None
    frozen.web.kill(signal.SIGSTOP)  # the process exists but answers nothing
    try:
        t0 = time.monotonic()
        op = cluster.api("POST", "/api/experiments/exp/jobs/stirring/start?wait=25", json={}).json()[
            "operation"
        ]
        elapsed = time.monotonic() - t0
    finally:
        frozen.web.kill(signal.SIGCONT)
    assert op["status"] == "partial", op
    steps = _steps(op)
    assert steps["unit2"][0] == "failed" and "did not answer" in steps["unit2"][1]
    assert steps["unit1"][0] == steps["unit3"][0] == "ok"
    assert elapsed < 5.0 + 3.0  # the agent read timeout (5 s) bounds it, not the 20 s operation deadline


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM], ids=["crash", "stop"])
def test_worker_killed_mid_operation_ends_interrupted(clean: Cluster, sig: int) -> None:
    """A crash, or a stop whose grace runs out while the operation waits on a unit that never answers."""
    cluster = clean
    stuck = cluster.agents[0]
    assert stuck.worker is not None
    stuck.worker.kill(signal.SIGSTOP)  # unit1 accepts the task but never runs it: the operation stays running
    try:
        op = cluster.api("POST", "/api/experiments/exp/jobs/stirring/start", json={}).json()["operation"]
        op_id = op["id"]

        def state() -> dict:  # type: ignore[type-arg]
            return cluster.api("GET", f"/api/operations/{op_id}").json()["operation"]  # type: ignore[no-any-return]

        wait_for(
            lambda: state()["status"] == "running" and _steps(state())["unit2"][0] == "ok",
            15,
            0.1,
            "operation running with unit2 done",
        )
        worker = cluster.leader_worker
        assert worker is not None
        began = time.monotonic()
        cluster.restart_leader_worker(sig)  # the signal, the old worker's exit, then a new worker
        if sig == signal.SIGTERM:  # stopped cleanly, after the grace (3 s), though the operation still ran
            assert worker.popen.returncode == 0 and time.monotonic() - began < 3 + 3, worker.log.read_text()[
                -2000:
            ]
        final = wait_for(
            lambda: (s := state())["status"] != "running" and s, 20, 0.1, "operation to leave running"
        )
    finally:
        stuck.worker.kill(signal.SIGCONT)
    assert final["status"] == "interrupted", final
    assert _steps(final)["unit1"][0] == "failed" and "interrupted" in _steps(final)["unit1"][1]
    assert cluster.api("GET", "/api/operations?status=running").json()["operations"] == []
    # the new worker runs operations
    op = cluster.api("POST", "/api/experiments/exp/jobs/stop?wait=25", json={}).json()["operation"]
    assert op["status"] == "succeeded", op


def test_events_stream_over_gunicorn(clean: Cluster) -> None:
    cluster = clean
    op = cluster.api("POST", "/api/experiments/exp/jobs/stirring/start", json={"units": ["unit3"]}).json()[
        "operation"
    ]
    events: list[tuple[str, str]] = []
    with cluster.api("GET", f"/api/operations/{op['id']}/events", stream=True) as r:
        assert r.headers["Content-Type"].startswith("text/event-stream")
        name = ""
        for raw in r.iter_lines(decode_unicode=True):
            if raw.startswith("event: "):
                name = raw[7:]
            elif raw.startswith("data: "):
                events.append((name, raw[6:]))
                if name == "done":
                    break
    assert events[0][0] == "state" and events[-1][0] == "done"
    assert json.loads(events[-1][1])["status"] == "succeeded"
    assert any(n == "step" and json.loads(d)["status"] == "ok" for n, d in events)


def test_every_api_route_refuses_without_credentials(cluster: Cluster) -> None:
    spec = cluster.api("GET", "/api/openapi.json").json()
    for path, methods in spec["paths"].items():
        path_ = path.replace("/api/exports/{op_id}", "/api/exports/" + "0" * 32)  # an export id's shape
        url = cluster.leader_url + re.sub(r"\{[a-z_]+\}", "1", path_)
        for method in methods:
            status = requests.request(method.upper(), url, timeout=30).status_code
            assert status == (200 if path == "/api/health" else 401), f"{method} {path}: {status}"


def test_config_sync_writes_every_unit_and_fails_an_offline_one(cluster: Cluster) -> None:
    current = _agent_get(cluster.agents[0], cluster, "/unit_api/config/config.ini")
    assert isinstance(current, dict)
    unit2_own = _agent_get(cluster.agents[1], cluster, "/unit_api/config/config.ini")
    assert isinstance(unit2_own, dict)
    # the units' own config.ini (it points pio at the test broker), plus one setting of ours; without the
    # broker's password: no secret belongs in these files (the test broker takes anyone)
    own = current["content"].replace("password = raspberry", "password =")
    content = own + "\n[cluster_test]\nsynced = yes\n"
    r = cluster.api("PUT", "/api/config/files/config.ini", json={"content": content})
    assert r.status_code == 200, r.text
    offline = cluster.agents[2]
    assert offline.web is not None
    offline.web.stop()
    try:
        op = cluster.api("POST", "/api/config/sync?wait=25", json={}).json()["operation"]
    finally:
        offline.start_web()
        wait_for(offline.ready, 20, 0.1, "agent web back")
    assert op["status"] == "partial", op
    steps = _steps(op)
    assert steps["unit1"] == ("ok", "wrote config.ini") and steps["unit2"][0] == "ok"
    assert steps["unit3"][0] == "failed" and "unreachable" in steps["unit3"][1]
    # saved, not synced to the offline unit alone (from what each step confirmed; no unit asked)
    assert cluster.api("GET", "/api/config/files/config.ini").json()["unsynced_units"] == ["unit3"]
    for agent in cluster.agents[:2]:
        written = _agent_get(agent, cluster, "/unit_api/config/config.ini")
        assert isinstance(written, dict) and written["content"] == content
    # unit1's config.ini names unit1's job registry: unit2 gets its own back, or its later jobs would share
    # unit1's registry (and refuse to start while unit1 runs the same job)
    r = requests.put(
        cluster.agents[1].url + "/unit_api/config/config.ini",
        json={"content": unit2_own["content"]},
        headers={"Authorization": f"Bearer {cluster.cluster_token}"},
        timeout=30,
    )
    assert r.status_code == 200, r.text


def test_cluster_token_rotation_reaches_every_agent(cluster: Cluster) -> None:
    import subprocess
    import sys

    before = cluster.cluster_token
    out = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "leader", "cluster-token", "rotate"],
        env={**os.environ, **cluster.leader_env()},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert "switched" in out.stdout and out.stdout.count(": ok") == 3
    cluster.cluster_token = (cluster.leader_dir / "cluster_token").read_text().strip()
    assert cluster.cluster_token != before
    for agent in cluster.agents:  # the old token is refused, the new one accepted
        r = requests.get(
            agent.url + "/unit_api/versions", headers={"Authorization": f"Bearer {before}"}, timeout=5
        )
        assert r.status_code == 401
        assert isinstance(_agent_get(agent, cluster, "/unit_api/versions"), dict)
    # web and worker picked up the new token without a restart
    op = cluster.api("POST", "/api/experiments/exp/jobs/stop?wait=25", json={}).json()["operation"]
    assert op["status"] == "succeeded", op


def test_unit_check_and_system_action_on_all_units(cluster: Cluster) -> None:
    check = cluster.api("POST", "/api/units/unit1/check")
    assert check.status_code == 200, check.text
    body = check.json()
    assert body["token_accepted"] is True and body["presence"] == "online" and body["last_seen"]
    op = cluster.api("POST", "/api/units/$all/system/update?wait=25").json()["operation"]
    assert op["kind"] == "system.update" and op["status"] == "succeeded", op
    assert all(d == "update done (dry run)" for _, d in _steps(op).values()) and len(op["steps"]) == 3


def test_pause_and_resume_through_real_agents(clean: Cluster) -> None:
    cluster = clean
    r = cluster.api("POST", "/api/experiments/exp/jobs/stirring/start?wait=25", json={"units": UNITS[:2]})
    assert r.json()["operation"]["status"] == "succeeded", r.json()["operation"]["steps"]

    def states() -> dict[str, str]:  # from MQTT ingest in the leader worker
        jobs = cluster.api("GET", "/api/experiments/exp/jobs/running").json()
        return {j["unit"]: j["state"] for j in jobs if j["job_name"] == "stirring"}

    for _ in range(2):  # pausing a paused job is done already
        op = cluster.api(
            "POST", "/api/experiments/exp/jobs/stirring/pause?wait=25", json={"units": UNITS[:2]}
        )
        assert op.json()["operation"]["status"] == "succeeded", op.json()
        wait_for(lambda: states() == dict.fromkeys(UNITS[:2], "sleeping"), 20, 0.1, "both sleeping")
    op = cluster.api("POST", "/api/experiments/exp/jobs/stirring/resume?wait=25", json={}).json()["operation"]
    assert op["status"] == "partial", op  # unit3 runs no stirring
    assert _steps(op) == {
        "unit1": ("ok", "stirring ready"),
        "unit2": ("ok", "stirring ready"),
        "unit3": ("failed", "stirring is not running"),
    }
    wait_for(lambda: states() == dict.fromkeys(UNITS[:2], "ready"), 20, 0.1, "both ready again")


def _experiment_events(
    cluster: Cluster, until: Callable[[list[dict[str, Any]]], bool], last_id: int | None = None
) -> list[dict[str, Any]]:
    """Read /api/experiments/exp/events until `until(events)` holds (the test's timeout bounds it)."""
    headers = {} if last_id is None else {"Last-Event-ID": str(last_id)}
    got: list[dict[str, Any]] = []
    with cluster.api("GET", "/api/experiments/exp/events", stream=True, headers=headers) as r:
        assert r.headers["Content-Type"].startswith("text/event-stream")
        current: dict[str, Any] = {}
        for raw in r.iter_lines(decode_unicode=True):
            if raw.startswith(("id: ", "event: ", "data: ")):
                key, _, value = raw.partition(": ")
                current[key] = json.loads(value) if key == "data" else value
            elif raw == "" and "event" in current:
                got.append({**current, "id": int(current["id"])})
                current = {}
                if until(got):
                    return got
    raise AssertionError(f"the stream ended first: {got}")


def test_experiment_events_over_gunicorn_resume_without_loss(clean: Cluster) -> None:
    cluster = clean
    opened = threading.Event()
    seen: list[dict[str, Any]] = []

    def ready_on_unit1(events: list[dict[str, Any]]) -> bool:
        opened.set()
        seen[:] = events  # as they come: a failure below shows what arrived
        # the job's settings may be ingested just after its `ready` state: wait for all three
        return (
            any(e["event"] == "operation" and e["data"]["status"] == "succeeded" for e in events)
            and any(e["event"] == "job_state" and e["data"] == READY_UNIT1 for e in events)
            and any(e["event"] == "setting" and e["data"]["name"] == "target_rpm" for e in events)
        )

    errors: list[BaseException] = []

    def read() -> None:
        try:
            _experiment_events(cluster, ready_on_unit1)
        except BaseException as exc:  # handed to the test below, not lost in the thread
            errors.append(exc)
            opened.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    # the stream starts "now": make sure it is open (a heartbeat-free way: a first event from a note)
    wait_for(
        lambda: (
            cluster.api("POST", "/api/experiments/exp/logs", json={"message": "go"}).ok and opened.wait(0.5)
        ),
        20,
        0.1,
        "stream open",
    )
    r = cluster.api("POST", "/api/experiments/exp/jobs/stirring/start?wait=25", json={"units": ["unit1"]})
    assert r.json()["operation"]["status"] == "succeeded"
    reader.join(40)
    assert not reader.is_alive() and not errors, (
        errors,
        [(e["event"], e["data"]) for e in seen],
        cluster.logs(),
    )
    ids = [e["id"] for e in seen]
    assert ids == sorted(set(ids))
    assert any(e["event"] == "setting" and e["data"]["name"] == "target_rpm" for e in seen), [
        (e["event"], e["data"]) for e in seen
    ]

    # a new connection with the last id gets what happened since, and nothing before it
    cluster.api("POST", "/api/experiments/exp/jobs/stirring/stop?wait=25", json={"units": ["unit1"]})
    rest = _experiment_events(
        cluster,
        lambda ev: any(e["event"] == "job_state" and e["data"]["state"] == "disconnected" for e in ev),
        last_id=ids[-1],
    )
    assert min(e["id"] for e in rest) > ids[-1]
    assert rest[0]["event"] in ("job_state", "operation", "log", "setting")


READY_UNIT1 = {"unit": "unit1", "job": "stirring", "state": "ready"}

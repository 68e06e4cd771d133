"""Job scenarios run against an agent on pio-sim and on real pio alike."""

from __future__ import annotations

import os
import signal
import sqlite3

from devcluster.procs import wait_for
from tests.agent.harness import AgentProc


def _stirring(agent: AgentProc) -> dict | None:  # type: ignore[type-arg]
    return next((j for j in agent.running() if j["job_name"] == "stirring"), None)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = open(f"/proc/{pid}/stat").read()  # noqa: SIM115
    return stat.rsplit(")", 1)[1].split()[0] not in ("Z", "X")


def _pwm_lock_owners(agent: AgentProc) -> list[int]:
    db = sqlite3.connect(f"file:{agent.paths.registry}?mode=ro", uri=True)
    try:
        return [int(str(v).split(":")[0]) for (v,) in db.execute("SELECT value FROM cache_pwm_locks")]
    finally:
        db.close()


def run_change_stop(agent: AgentProc, experiment: str) -> None:
    run = agent.task(
        "POST",
        "/unit_api/jobs/run/job_name/stirring",
        {"experiment": experiment, "options": {"target_rpm": 400}},
    )
    assert run["status"] == "complete", run
    assert run["result"]["state"] == "ready", run["result"]
    assert run["result"]["experiment"] == experiment
    pid = run["result"]["pid"]

    job = wait_for(
        lambda: (j := _stirring(agent)) and j["settings"].get("target_rpm") == 400 and j, 10, what="job"
    )
    assert job["pid"] == pid and job["experiment"] == experiment and job["state"] == "ready"
    assert job["job_source"] == "user" and isinstance(job["job_id"], int)

    change = agent.task(
        "PATCH",
        "/unit_api/jobs/settings/job_name/stirring",
        {"experiment": experiment, "settings": {"target_rpm": 321}},
    )
    assert change["status"] == "complete", change
    assert change["result"] == {"echoed": {"target_rpm": 321.0}, "not_echoed": []}
    status, settings = agent.get("/unit_api/jobs/settings/job_name/stirring")
    assert status == 200 and settings["settings"]["target_rpm"] == 321

    stop = agent.task("POST", "/unit_api/jobs/stop", {"job_name": "stirring"})
    assert stop["status"] == "complete", stop
    assert stop["result"]["stopped"] == ["stirring"] and stop["result"]["still_running"] == []
    assert isinstance(stop["result"]["exit_codes"]["stirring"], int)  # recorded, not guessed
    assert _stirring(agent) is None and not _alive(pid)

    again = agent.task("POST", "/unit_api/jobs/stop", {"job_name": "stirring"})
    assert again["result"]["not_running"] is True

    for task in (run, change, stop):  # results are kept: reading twice gives the same answer
        first = agent.get(f"/unit_api/task_results/{task['task_id']}")
        second = agent.get(f"/unit_api/task_results/{task['task_id']}")
        assert first == second and first[0] == 200
        assert first[1]["result"] == task["result"]


def sigkill_behind_the_back(agent: AgentProc, experiment: str) -> None:
    run = agent.task("POST", "/unit_api/jobs/run/job_name/stirring", {"experiment": experiment})
    assert run["result"]["state"] == "ready", run
    pid = run["result"]["pid"]
    os.kill(pid, signal.SIGKILL)
    wait_for(lambda: _stirring(agent) is None, 10, what="killed job reported gone")

    # the real tool leaves its registry row marked running: the next `pio run` would refuse
    db = sqlite3.connect(f"file:{agent.paths.registry}?mode=ro", uri=True)
    try:
        stale = db.execute(
            "SELECT count(*) FROM pio_job_metadata "
            "WHERE job_name = 'stirring' AND is_running = 1 AND pid = ?",
            (pid,),
        ).fetchone()[0]
    finally:
        db.close()
    assert stale == 1
    assert pid in _pwm_lock_owners(agent)  # and its PWM lock, which would block stirring's next start

    rerun = agent.task("POST", "/unit_api/jobs/run/job_name/stirring", {"experiment": experiment})
    assert rerun["result"]["state"] == "ready", rerun
    assert rerun["result"]["pid"] != pid
    assert _stirring(agent)["pid"] == rerun["result"]["pid"]  # type: ignore[index]
    # the killed job's PWM lock was released too (`pio cache purge pwm_locks`): every lock has a live owner
    owners = _pwm_lock_owners(agent)
    assert pid not in owners and all(_alive(p) for p in owners), owners
    stop = agent.task("POST", "/unit_api/jobs/stop", {"job_name": "stirring"})
    assert stop["result"]["stopped"] == ["stirring"]


def pause_resume_disconnect(agent: AgentProc, experiment: str) -> None:
    """`$state` through the settings PATCH: sleeping, ready (each twice: idempotent), then disconnected."""
    path = "/unit_api/jobs/settings/job_name/stirring"
    run = agent.task("POST", "/unit_api/jobs/run/job_name/stirring", {"experiment": experiment})
    assert run["result"]["state"] == "ready", run
    pid = run["result"]["pid"]
    for state in ("sleeping", "sleeping", "ready", "ready"):
        change = agent.task("PATCH", path, {"experiment": experiment, "settings": {"$state": state}})
        assert change["status"] == "complete", change
        assert change["result"] == {"echoed": {"$state": state}, "not_echoed": []}
        wait_for(lambda s=state: (j := _stirring(agent)) and j["state"] == s, 10, what=f"state {state}")
    for bad in ({"$state": "lost"}, {"$state": "init"}, {"$state": 1}, {"$other": "ready"}):
        status, answer = agent.request("PATCH", path, {"settings": bad})
        assert status == 400 and "$.settings" in answer["message"], answer
    stop = agent.task("PATCH", path, {"experiment": experiment, "settings": {"$state": "disconnected"}})
    assert stop["result"] == {"echoed": {"$state": "disconnected"}, "not_echoed": []}, stop
    wait_for(lambda: _stirring(agent) is None and not _alive(pid), 10, what="job gone after disconnected")
    status, _ = agent.request("PATCH", path, {"settings": {"$state": "ready"}})
    assert status == 404  # not running

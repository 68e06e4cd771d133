"""The other /unit_api routes on a real agent: config files, calibrations, system, plugins, task results."""

from __future__ import annotations

import hashlib
import platform

from cluster_schema import SCHEMA_VERSION
from tests.agent.harness import AgentProc


def test_health_and_versions(sim_agent: AgentProc) -> None:
    status, health = sim_agent.request("GET", "/unit_api/health", token=None)
    assert status == 200
    assert health == {"unit": sim_agent.unit, "status": "ok", "agent_version": "0.1.0", "schema_version": 1}
    status, versions = sim_agent.get("/unit_api/versions")
    assert status == 200 and versions["schema"] == SCHEMA_VERSION
    assert versions["python"] == platform.python_version() and versions["pio"] not in ("", "unknown")


def test_config_files_atomic_with_previous_version(sim_agent: AgentProc) -> None:
    path = sim_agent.paths.dot / "config.ini"
    original = path.read_bytes()
    status, current = sim_agent.get("/unit_api/config/config.ini")
    assert status == 200 and current["sha256"] == hashlib.sha256(original).hexdigest()

    new = current["content"] + "\n[agent_test]\nkey=1\n"
    status, written = sim_agent.request(
        "PUT", "/unit_api/config/config.ini", {"content": new, "sha256": current["sha256"]}
    )
    assert status == 200 and written["sha256"] == hashlib.sha256(new.encode()).hexdigest()
    assert path.read_text() == new and (path.parent / "config.ini.prev").read_bytes() == original
    assert not [p for p in path.parent.iterdir() if p.name.endswith(".tmp")]

    stale = sim_agent.request(
        "PUT", "/unit_api/config/config.ini", {"content": new, "sha256": current["sha256"]}
    )
    assert stale[0] == 409 and stale[1]["error"] == "conflict"
    bad_ini = sim_agent.request("PUT", "/unit_api/config/config.ini", {"content": "no section here"})
    assert bad_ini[0] == 400 and "$.content" in bad_ini[1]["message"]
    assert path.read_text() == new  # refused writes change nothing
    unknown = sim_agent.request("PUT", "/unit_api/config/secrets.txt", {"content": "x"})
    assert unknown[0] == 404 and "config.ini" in unknown[1]["message"]
    assert sim_agent.get("/unit_api/config/unit_config.ini")[0] == 404  # known name, no such file yet
    assert sim_agent.request("PUT", "/unit_api/config/unit_config.ini", {"content": "[x]\ny=1\n"})[0] == 200

    restored = sim_agent.request("PUT", "/unit_api/config/config.ini", {"content": original.decode()})
    assert restored[0] == 200 and path.read_bytes() == original


def test_calibrations(sim_agent: AgentProc) -> None:
    folder = sim_agent.paths.dot / "storage" / "calibrations" / "stirring"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "cal-a.yaml").write_text("calibration_name: cal-a\ncalibration_type: stirring\n")
    status, listed = sim_agent.get("/unit_api/calibrations")
    assert status == 200
    assert {"device": "stirring", "name": "cal-a"}.items() <= listed["calibrations"][0].items()
    assert listed["calibrations"][0]["content"] is None
    status, device = sim_agent.get("/unit_api/calibrations/stirring")
    assert status == 200 and "calibration_name: cal-a" in device["calibrations"][0]["content"]
    assert sim_agent.get("/unit_api/calibrations/od")[1] == {"calibrations": []}
    missing = sim_agent.request("PATCH", "/unit_api/active_calibrations/stirring/nope")
    assert missing[0] == 404


def test_system_commands_dry_run_and_clock(sim_agent: AgentProc) -> None:
    for name, argv in (("reboot", ["sudo", "reboot"]), ("shutdown", ["sudo", "shutdown", "-h", "now"])):
        result = sim_agent.task("POST", f"/unit_api/system/{name}")
        assert result["status"] == "complete"
        assert result["result"] == {"command": argv, "exit_code": None, "output_tail": "", "dry_run": True}
    update = sim_agent.task("POST", "/unit_api/system/update")
    assert update["result"]["command"][1:] == ["update", "app"]

    status, clock = sim_agent.get("/unit_api/system/clock")
    assert status == 200 and clock["utc"].endswith("Z")
    result = sim_agent.task("POST", "/unit_api/system/clock", {"utc": "2026-01-31T12:34:56+01:00"})
    assert result["result"]["command"] == ["sudo", "date", "-u", "--set", "2026-01-31 11:34:56"]


def test_plugins(sim_agent: AgentProc) -> None:
    status, plugins = sim_agent.get("/unit_api/plugins")
    assert status == 200 and plugins == {"plugins": []}
    for action in ("install", "uninstall"):
        status, answer = sim_agent.request(
            "POST", f"/unit_api/plugins/{action}", {"name": "pioreactor-air-bubbler"}
        )
        assert status == 403 and answer["error"] == "forbidden"


def test_task_results_unknown_and_not_running(sim_agent: AgentProc) -> None:
    status, answer = sim_agent.get("/unit_api/task_results/00000000-0000-0000-0000-000000000000")
    assert status == 404 and answer["status"] == "unknown"
    status, answer = sim_agent.get("/unit_api/jobs/settings/job_name/od_reading")
    assert status == 404 and answer["error"] == "not_found"
    status, answer = sim_agent.request(
        "PATCH", "/unit_api/jobs/settings/job_name/od_reading", {"settings": {"x": 1}}
    )
    assert status == 404
    assert sim_agent.get("/unit_api/no/such/route")[0] == 404


def test_reads_answer_from_memory_without_running_pio(sim_agent: AgentProc) -> None:
    run = sim_agent.task("POST", "/unit_api/jobs/run/job_name/stirring", {"experiment": "exp-reads"})
    assert run["result"]["state"] == "ready"
    calls = sim_agent.calls
    before = calls.read_text()
    for _ in range(5):
        assert [j["job_name"] for j in sim_agent.running()] == ["stirring"]
        assert sim_agent.get("/unit_api/jobs/settings/job_name/stirring")[0] == 200
        assert sim_agent.get("/unit_api/calibrations")[0] == 200
        assert sim_agent.get("/unit_api/versions")[0] == 200
    assert calls.read_text() == before  # no `pio` process for any of these
    log = sim_agent.data_dir / "job_logs" / "stirring.log"  # the job's own output, kept per job
    assert "Ready" in log.read_text()
    sim_agent.task("POST", "/unit_api/jobs/stop", {"job_name": "stirring"})

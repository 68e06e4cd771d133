"""Credentials on every route; the injection corpus (400 naming the field, nothing spawned); refusals."""

from __future__ import annotations

import re
import sqlite3
import urllib.parse
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.agent.harness import AgentProc

CORPUS = [
    "--x",
    "-rf",
    ";rm -rf /",
    "$(touch /tmp/pwned)",
    "`id`",
    "../etc/passwd",
    "..",
    "a" * 5000,
    "nul\x00byte",
    "line\nbreak",
    "ünïcødé-名前",
    "UPPER",
    "with space",
    "",
]
# Values are free text, one argv element each and never parsed by a shell; still refused: flags, control
# characters, overlong text, shell metacharacters and '..' path segments (pio or a plugin may pass them on).
BAD_VALUES = [
    "--x", "-rf", "a" * 5000, "nul\x00byte", "line\nbreak", ";rm -rf /", "$(touch /tmp/pwned)", "`id`",
    "../etc/passwd", "..", "a|b", "a && b", "> /etc/passwd", "back\\slash",
]  # fmt: skip
MQTT_BAD_VALUES = BAD_VALUES[:5]


def _url_map(agent: AgentProc, tmp_path: Path) -> list[tuple[str, str]]:
    from unit_agent.app import create_app

    app = create_app({"data_dir": tmp_path / "data", "token_file": agent.token_file, "unit": agent.unit})
    routes = []
    for rule in app.url_map.iter_rules():
        path = re.sub(r"<(?:[a-z]+:)?[a-z_]+>", "x", rule.rule)
        routes += [(m, path) for m in sorted(rule.methods or ()) if m not in ("HEAD", "OPTIONS")]
    return routes


def test_every_route_but_health_needs_the_token(sim_agent: AgentProc, tmp_path: Path) -> None:
    routes = _url_map(sim_agent, tmp_path)
    assert len(routes) == 25  # every route of the contract, plus cluster_token rotation, metrics and identify
    for method, path in routes:
        for token in (None, "wrong-token-of-some-length", sim_agent.token + "x", ""):
            status, body = sim_agent.request(method, path, {}, token=token)
            if path == "/unit_api/health":
                assert status == 200
                continue
            assert status == 401, (method, path, status, body)
            assert body["error"] == "unauthorized" and "Bearer" in body["message"]


def test_openapi_lists_every_route_and_no_other(sim_agent: AgentProc, tmp_path: Path) -> None:
    status, spec = sim_agent.get("/unit_api/openapi.json")
    assert status == 200 and spec["openapi"].startswith("3.")
    served = {(m.lower(), re.sub(r"/x(?=/|$)", "/{}", p)) for m, p in _url_map(sim_agent, tmp_path)}
    documented = {(m, re.sub(r"\{[^}]+\}", "{}", p)) for p, ops in spec["paths"].items() for m in ops}
    assert served == documented
    run = spec["paths"]["/unit_api/jobs/run/job_name/{job}"]["post"]
    assert "RunJobRequest" in str(run["requestBody"])
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            public = path == "/unit_api/health"
            assert (op.get("security") == []) is public, (method, path)
            assert ("401" in op["responses"]) is not public, (method, path)
    # what this agent's settings decide: its config files and the environment names it passes on
    (name,) = spec["paths"]["/unit_api/config/{name}"]["get"]["parameters"]
    assert name["schema"]["enum"] == ["config.ini", "unit_config.ini"]
    env = spec["components"]["schemas"]["RunJobRequest"]["properties"]["env"]
    assert env["additionalProperties"] is False and "EXPERIMENT" in env["properties"]


def test_a_405_says_which_methods_exist_and_a_404_says_why(sim_agent: AgentProc) -> None:
    headers = {"Authorization": f"Bearer {sim_agent.token}"}
    r = requests.delete(sim_agent.url + "/unit_api/system/clock", headers=headers, timeout=30)
    assert r.status_code == 405 and r.json()["error"] == "method_not_allowed"
    assert set(re.split(r",\s*", r.headers["Allow"])) == {"GET", "POST", "HEAD", "OPTIONS"}
    r = requests.get(sim_agent.url + "/unit_api/task_results/no-such-task", headers=headers, timeout=30)
    assert r.status_code == 404
    assert r.json()["status"] == "unknown" and r.json()["error"] == "not_found" and r.json()["message"]
    r = requests.get(sim_agent.url + "/unit_api/versions", timeout=30)
    assert r.status_code == 401 and r.headers["WWW-Authenticate"] == "Bearer"


def _queued(agent: AgentProc) -> int:
    db = sqlite3.connect(agent.data_dir / "agent.sqlite")
    try:
        return int(db.execute("SELECT count(*) FROM task_results").fetchone()[0])
    finally:
        db.close()


def _cases() -> list[tuple[str, str, Any, str]]:
    """(method, path, body, field the 400 must name)."""
    run, settings = "/unit_api/jobs/run/job_name/", "/unit_api/jobs/settings/job_name/stirring"
    cases: list[tuple[str, str, Any, str]] = []
    for bad in CORPUS:
        if bad and "/" not in bad:  # a '/' in a path segment is a routing miss (404), not a job name
            # (gunicorn refuses request lines over 4 KB itself: the path case uses at most 200 characters)
            cases.append(("POST", run + urllib.parse.quote(bad[:200], safe=""), {}, "job_name"))
        cases.append(("POST", run + "stirring", {"options": {bad: 1}}, "$.options"))
        cases.append(("POST", run + "stirring", {"env": {bad: "1"}}, "$.env"))
        if bad != "UPPER":  # config.ini sections may be upper case (`PWM`)
            section = {"config_overrides": [[bad, "k", "1"]]}
            cases.append(("POST", run + "stirring", section, "$.config_overrides[0][0]"))
        cases.append(("PATCH", settings, {"settings": {bad: 1}}, "$.settings"))
        cases.append(("POST", "/unit_api/jobs/stop", {"job_name": bad}, "$.job_name"))
        cases.append(("POST", "/unit_api/jobs/stop", {"job_source": bad}, "$.job_source"))
        cases.append(("POST", run + "stirring", {"env": {"JOB_SOURCE": bad}}, "$.env.JOB_SOURCE"))
    for bad in BAD_VALUES:
        cases.append(("POST", run + "stirring", {"options": {"target_rpm": bad}}, "$.options.target_rpm"))
        cases.append(("POST", run + "stirring", {"args": [bad]}, "$.args[0]"))
        cases.append(("POST", run + "stirring", {"env": {"ACTIVE": bad}}, "$.env.ACTIVE"))
        cases.append(
            ("POST", run + "stirring", {"config_overrides": [["s", "k", bad]]}, "$.config_overrides[0][2]")
        )
        if bad in MQTT_BAD_VALUES:  # settings travel as MQTT payloads, not as arguments
            cases.append(("PATCH", settings, {"settings": {"target_rpm": bad}}, "$.settings.target_rpm"))
    for bad in ("$(x)", "../x", "a" * 200, "nul\x00", "x/y", "#", "+"):
        cases.append(("POST", run + "stirring", {"experiment": bad}, "$.experiment"))
        cases.append(("POST", run + "stirring", {"env": {"EXPERIMENT": bad}}, "$.env.EXPERIMENT"))
        cases.append(("POST", "/unit_api/jobs/stop", {"experiment": bad}, "$.experiment"))
    cases += [
        ("POST", run + "stirring", {"env": {"PATH": "/tmp"}}, "$.env.PATH"),
        ("POST", run + "stirring", {"env": {"LD_PRELOAD": "/tmp/x.so"}}, "$.env.LD_PRELOAD"),
        ("POST", run + "stirring", {"options": {"target_rpm": [1]}}, "$.options.target_rpm"),
        ("POST", run + "stirring", {"args": "--help"}, "$.args"),
        ("POST", "/unit_api/jobs/stop", {}, "$.job_name"),
        ("POST", "/unit_api/system/clock", {"utc": "$(date)"}, "$.utc"),
        ("POST", "/unit_api/system/clock", {}, "utc"),
    ]
    return cases


def test_injection_corpus_is_refused_before_anything_runs(sim_agent: AgentProc) -> None:
    calls = sim_agent.calls
    before_calls, before_tasks = calls.read_text(), _queued(sim_agent)
    cases = _cases()
    assert len(cases) > 100
    for method, path, body, field in cases:
        status, answer = sim_agent.request(method, path, body)
        assert status == 400, (method, path, body, status, answer)
        assert answer["error"] in ("bad_request", "invalid_field"), answer
        assert field in answer["message"], (field, answer["message"], body)
    malformed = sim_agent.request("POST", "/unit_api/jobs/run/job_name/stirring", raw=b"{not json")
    assert malformed[0] == 400 and malformed[1]["error"] == "malformed_json"
    assert calls.read_text() == before_calls, "a process was spawned"
    assert _queued(sim_agent) == before_tasks, "a task was queued"


def test_calibration_and_config_path_segments_are_validated(sim_agent: AgentProc) -> None:
    for path in (
        "/unit_api/calibrations/..",
        "/unit_api/calibrations/.hidden",
        "/unit_api/config/..",
        "/unit_api/config/%2E%2E",
        "/unit_api/active_calibrations/od/..",
        "/unit_api/config/a%00b",
    ):
        method = "PATCH" if "active" in path else "GET"
        status, answer = sim_agent.request(method, path)
        assert status == 400, (path, status, answer)
        assert "name" in answer["message"] or "device" in answer["message"]
    for path in ("/unit_api/config/..%2F..%2Fetc%2Fpasswd", "/unit_api/config/../../etc/passwd"):
        assert sim_agent.request("GET", path)[0] in (400, 404)


def test_refuses_to_start_without_a_real_token(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from unit_agent.app import create_app
    from unit_agent.config import ConfigError

    monkeypatch.delenv("APP_ENV", raising=False)
    token = tmp_path / "token"
    base = {"data_dir": tmp_path / "data", "token_file": token}
    with pytest.raises(ConfigError, match="no token file"):
        create_app(base)
    token.write_text("changeme\n")
    token.chmod(0o600)
    with pytest.raises(ConfigError, match="placeholder"):
        create_app(base)
    token.write_text("a-long-enough-random-token-value\n")
    token.chmod(0o644)
    with pytest.raises(ConfigError, match="other users"):
        create_app(base)
    token.chmod(0o600)
    app = create_app(base)
    assert app.test_client().get("/unit_api/versions").status_code == 401

    token.unlink()
    monkeypatch.setenv("APP_ENV", "development")  # allowed, loudly, and then unauthenticated
    dev = create_app(base)
    assert dev.test_client().get("/unit_api/versions").status_code == 200


def test_token_rotation(sim_agent: AgentProc) -> None:
    old = sim_agent.token
    assert sim_agent.request("PUT", "/unit_api/cluster_token", {"token": "short"})[0] == 400
    new = "rotated-" + old[:24]
    status, _ = sim_agent.request("PUT", "/unit_api/cluster_token", {"token": new})
    assert status == 200
    assert sim_agent.token_file.read_text().strip() == new
    assert sim_agent.token_file.stat().st_mode & 0o077 == 0
    assert sim_agent.request("GET", "/unit_api/versions", token=old)[0] == 401
    assert sim_agent.request("GET", "/unit_api/versions", token=new)[0] == 200
    sim_agent.token = new
    assert sim_agent.request("PUT", "/unit_api/cluster_token", {"token": old})[0] == 200
    sim_agent.token = old

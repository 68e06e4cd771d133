"""In-process tests of the agent's building blocks: argv building, environment, configuration, escalation."""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from cluster_schema.agent import RunJobRequest
from cluster_schema.errors import BadRequest
from unit_agent import config
from unit_agent.pio import Pio, stop_pids
from unit_agent.registry import pid_alive
from unit_agent.state import format_value, parse_value, same_value

IGNORE_INT_TERM = (
    "import signal, time; [signal.signal(s, signal.SIG_IGN) for s in (2, 15)]; print('up', flush=True); "
    "time.sleep(60)"
)
IGNORE_INT = IGNORE_INT_TERM.replace("(2, 15)", "(2,)")


def _pio(**kw: object) -> Pio:
    return Pio(config.Settings(pio="/opt/pio", **kw))  # type: ignore[arg-type]


def test_run_argv_is_built_from_validated_parts() -> None:
    req = RunJobRequest(
        options={"target_rpm": 500, "use_rpm": True, "measure_rpm_only": None, "automation-name": "silent"},
        args=["one", "-5"],
        config_overrides=[("stirring.config", "pwm_hz", "100")],
    )
    assert _pio().run_args("stirring", req) == [
        "run", "--config-override", "stirring.config", "pwm_hz", "100", "stirring",
        "--target-rpm", "500", "--use-rpm", "True", "--measure-rpm-only", "--automation-name", "silent",
        "--", "one", "-5",
    ]  # fmt: skip
    assert _pio().argv(["version"]) == ["/opt/pio", "version"]
    with pytest.raises(BadRequest, match="job_name"):
        _pio().run_args("Stirring;", RunJobRequest())


def test_environment_is_an_allow_list(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOT_PIOREACTOR", "/dot")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "leak")
    env = _pio().env({"JOB_SOURCE": "experiment_profile"}, "exp1")
    assert env["DOT_PIOREACTOR"] == "/dot" and env["EXPERIMENT"] == "exp1"
    assert env["JOB_SOURCE"] == "experiment_profile" and "AWS_SECRET_ACCESS_KEY" not in env
    with pytest.raises(BadRequest, match=r"\$\.env\.LD_PRELOAD"):
        _pio().env({"LD_PRELOAD": "/x.so"})
    assert _pio(system_set_clock=["date", "--set", "{utc}"]).system_argv("set_clock", utc="2026") == [
        "date", "--set", "2026"
    ]  # fmt: skip


def test_config_file_and_environment_overrides(tmp_path: Path) -> None:
    path = tmp_path / "agent.toml"
    path.write_text(
        'unit = "u1"\nallow_plugins = true\n[mqtt]\nurl = "mqtt://h:1884"\n[timeouts]\nstop_grace = 2\n'
    )
    s = config.load(
        path, {"UNIT_AGENT_SYSTEM_REBOOT": '["/sbin/reboot"]', "UNIT_AGENT_TIMEOUTS_JOB_READY": "7"}
    )
    assert (s.unit, s.allow_plugins, s.mqtt_host_port, s.timeouts_stop_grace) == (
        "u1",
        True,
        ("h", 1884),
        2.0,
    )
    assert s.system_reboot == ["/sbin/reboot"] and s.timeouts_job_ready == 7.0 and not s.development
    assert (
        config.load(path, {"APP_ENV": "development", "UNIT_AGENT_ALLOW_PLUGINS": "0"}).allow_plugins is False
    )
    path.write_text('colour = "blue"\n')
    with pytest.raises(config.ConfigError, match="colour"):
        config.load(path, {})
    # the registry path comes from Pioreactor's own config.ini when it names one
    dot = tmp_path / "dot"
    dot.mkdir()
    (dot / "config.ini").write_text("[storage]\ntemporary_cache=/x/reg.sqlite\n")
    assert config.Settings(dot_pioreactor=dot).registry_path() == Path("/x/reg.sqlite")
    assert config.Settings(dot_pioreactor=tmp_path).registry_path().name.startswith("local_intermittent")


def test_values_on_mqtt() -> None:
    assert parse_value("400.0") == 400.0 and parse_value("False") is False and parse_value("auto") == "auto"
    assert parse_value('{"od": 1}') == {"od": 1}
    assert same_value(321, "321.0") and same_value(True, "True") and not same_value(300, "321.0")
    assert format_value(True) == "true" and format_value(2.5) == "2.5" and format_value(None) == ""


def test_call_timeout_escalates_and_reports() -> None:
    pio = _pio()
    started = time.monotonic()
    done = pio.command([sys.executable, "-c", IGNORE_INT], timeout=0.5)  # SIGINT ignored: SIGTERM ends it
    assert done.exit_code is None and "timed out" in done.output and "up" in done.output
    assert time.monotonic() - started < 5
    assert pio.command(["/no/such/binary"]).exit_code == 127


def test_stop_escalates_to_sigkill() -> None:
    proc = subprocess.Popen([sys.executable, "-c", IGNORE_INT_TERM], stdout=subprocess.PIPE)
    assert proc.stdout is not None and proc.stdout.readline() == b"up\n"
    started = time.monotonic()
    left = stop_pids({proc.pid: None}, grace=0.3)
    assert left == set() and proc.wait(5) == -9
    assert 0.5 < time.monotonic() - started < 3  # INT, then TERM, each given its grace, then KILL


def test_a_recycled_pid_is_not_the_job() -> None:
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        now = datetime.now(UTC)
        assert pid_alive(proc.pid) and pid_alive(proc.pid, now.isoformat())
        # the registry row says the job started an hour before this process existed: another program
        assert not pid_alive(proc.pid, (now - timedelta(hours=1)).isoformat().replace("+00:00", "Z"))
    finally:
        proc.kill()
        proc.wait()
    assert not pid_alive(proc.pid)

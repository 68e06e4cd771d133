"""Agent test harness: a real agent (gunicorn web + huey worker, started with the exact commands of the
systemd units the unit_agent Ansible role renders) against a real broker and a pio-sim or real-pio unit."""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import shlex
import sys
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from paho.mqtt import client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from devcluster.broker import Broker
from devcluster.cleanup import stop_unit_jobs
from devcluster.procs import Proc, free_port, http_ok, wait_for
from devcluster.units import make_sim_unit, unit_paths

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


UNIT_TEMPLATES = REPO / "deploy" / "ansible" / "roles" / "unit_agent" / "templates"


def unit_environment(service: str) -> dict[str, str]:
    """The Environment= lines of a systemd unit of ours (but the config path, which each test sets)."""
    text = (UNIT_TEMPLATES / f"{service}.j2").read_text()
    pairs = (line.split("=", 2)[1:] for line in text.splitlines() if line.startswith("Environment="))
    return {k: v for k, v in pairs if k != "UNIT_AGENT_CONFIG"}


def exec_start(service: str) -> list[str]:
    """The ExecStart of a systemd unit of ours, the release (`current`) mapped to this venv and checkout."""
    text = (UNIT_TEMPLATES / f"{service}.j2").read_text()
    line = re.search(r"^ExecStart=(.+)$", text, re.M)
    assert line, f"no ExecStart in {service}"
    argv = shlex.split(line.group(1).replace("{{ unit_agent_current }}", "@CURRENT@"))
    argv = [a.replace("@CURRENT@/bin/", f"{BIN}/") for a in argv]
    return [a.replace("@CURRENT@/", f"{REPO}/deploy/unit_agent/") for a in argv]


def write_spy(path: Path, target: Path, calls: Path) -> Path:
    """A `pio` that notes every invocation, then runs the unit's real wrapper (same pid, via exec)."""
    path.write_text(
        f'#!/bin/sh\necho "$*" >> {shlex.quote(str(calls))}\nexec {shlex.quote(str(target))} "$@"\n'
    )
    path.chmod(0o755)
    calls.touch()
    return path


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, Path):
        value = str(value)
    return json.dumps(value)  # JSON strings and lists of strings are valid TOML


class AgentProc:
    calls: Path | None = None  # the spy's record of every `pio` call, when its pio is a spy

    def __init__(self, workdir: Path, unit: str, broker: Broker, pio: Path, unit_dir: Path, **settings: Any):
        self.workdir = workdir
        self.unit = unit
        self.broker = broker
        self.port = free_port()
        self.token = secrets.token_urlsafe(32)
        self.token_file = workdir / "token"
        fd = os.open(self.token_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(self.token + "\n")
        self.paths = unit_paths(unit_dir)
        self.data_dir = workdir / "data"
        values: dict[str, Any] = {
            "unit": unit,
            "pio": pio,
            "data_dir": self.data_dir,
            "dot_pioreactor": self.paths.dot,
            "listen": f"127.0.0.1:{self.port}",
            "token_file": self.token_file,
            "mqtt_url": broker.url,
            "system_dry_run": True,
            "timeouts_stop_grace": 3,
            "timeouts_job_ready": 20,
            "timeouts_setting_echo": 20,  # a loaded CI machine may take seconds to echo
            **settings,
        }
        self.values = values
        self.config = workdir / "unit_agent.toml"
        self._write_config()
        self.web: Proc | None = None
        self.worker: Proc | None = None

    def _write_config(self) -> None:
        self.config.write_text("".join(f"{k} = {_toml_value(v)}\n" for k, v in self.values.items()))

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def env(self, service: str = "unit-agent-web.service") -> dict[str, str]:
        return {**unit_environment(service), "UNIT_AGENT_CONFIG": str(self.config), "APP_ENV": "production"}

    def start(self) -> AgentProc:
        self.start_worker()
        try:
            for attempt in range(3):  # another test may take the free port before gunicorn binds it
                self.web = Proc(
                    exec_start("unit-agent-web.service"), self.workdir / "web.log", self.env(), cwd=REPO
                )
                try:
                    wait_for(self._web_ready, 20, 0.05, "agent web")
                    break
                except RuntimeError:
                    if attempt == 2 or "Address already in use" not in self.web.output():
                        raise
                    self.web.stop()
                    self.port = free_port()
                    self.values["listen"] = f"127.0.0.1:{self.port}"
                    self._write_config()
            wait_for(lambda: self.get("/unit_api/versions")[1]["pio"] != "unknown", 20, 0.05, "agent worker")
        except BaseException:
            self.stop()
            raise
        return self

    def start_worker(self) -> None:
        argv = exec_start("unit-agent-worker.service")
        self.worker = Proc(argv, self.workdir / "worker.log", self.env("unit-agent-worker.service"), cwd=REPO)

    def _web_ready(self) -> bool:
        assert self.web is not None
        if not self.web.alive():
            raise RuntimeError(f"agent web exited:\n{self.web.output()[-3000:]}")
        return http_ok(self.url + "/unit_api/health")

    def stop(self) -> None:
        """Stop the agent's processes; its jobs run on (they are detached, as in production)."""
        for proc in (self.web, self.worker):
            if proc:
                proc.stop()
        self.web = self.worker = None

    def close(self) -> None:
        """Teardown: the agent, then whatever jobs its unit still runs."""
        self.stop()
        stop_unit_jobs(self.paths.root)

    # -- HTTP ------------------------------------------------------------------------------------------
    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        token: str | None = "default",  # noqa: S107 ("default": the agent's own token)
        raw: bytes | None = None,
    ) -> tuple[int, Any]:
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        req = urllib.request.Request(self.url + path, data=data, method=method)  # noqa: S310 (loopback)
        if token is not None:
            req.add_header("Authorization", f"Bearer {self.token if token == 'default' else token}")
        if data is not None:
            req.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:  # noqa: S310 (loopback)
                status, text = resp.status, resp.read()
        except urllib.error.HTTPError as exc:
            status, text = exc.code, exc.read()
        return status, json.loads(text) if text else None

    def get(self, path: str) -> tuple[int, Any]:
        return self.request("GET", path)

    def task(self, method: str, path: str, body: Any = None, timeout: float = 30) -> dict[str, Any]:
        """Submit a task, check the 202 answer, and wait for its result (complete or failed)."""
        status, answer = self.request(method, path, body)
        assert status == 202, (status, answer)
        assert answer["unit"] == self.unit and answer["result_url_path"].endswith(answer["task_id"])

        def done() -> dict[str, Any] | None:
            code, result = self.get(answer["result_url_path"])
            assert code in (200, 202), (code, result)
            return result if code == 200 else None

        result = wait_for(done, timeout, 0.05, f"task {path}")
        result["task_id"] = answer["task_id"]
        return result

    def stop_all_jobs(self) -> None:
        """Teardown of one test: nothing it started runs on into the next (one failure, one failed test)."""
        with contextlib.suppress(AssertionError, RuntimeError, OSError):
            self.task("POST", "/unit_api/jobs/stop", {"all_jobs": True})
        if not self.worker or not self.running():
            return
        stop_unit_jobs(self.paths.root)  # the agent could not: signal them directly
        wait_for(lambda: not self.running(), 20, what="no job left running")

    def running(self) -> list[dict[str, Any]]:
        status, jobs = self.get("/unit_api/jobs/running")
        assert status == 200
        return list(jobs)


class Subscriber:
    """Collects MQTT messages of a topic filter (a real paho client on the test broker)."""

    def __init__(self, broker: Broker, topic: str):
        self.messages: list[tuple[str, bytes, bool]] = []
        self.lock = threading.Lock()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"test-{secrets.token_hex(4)}")
        self.client.on_message = self._on_message
        self.client.on_connect = lambda c, *_: c.subscribe(topic, qos=1)
        self.client.connect(broker.host, broker.port)
        self.client.loop_start()

    def _on_message(self, _c: Any, _u: Any, msg: mqtt.MQTTMessage) -> None:
        with self.lock:
            self.messages.append((msg.topic, bytes(msg.payload), bool(msg.retain)))

    def find(self, predicate: Any) -> list[tuple[str, bytes, bool]]:
        with self.lock:
            return [m for m in self.messages if predicate(m)]

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@contextlib.contextmanager
def spied_sim_agent(base: Path, broker: Broker, prefix: str, **settings: Any) -> Iterator[AgentProc]:
    """A started agent on a fresh pio-sim unit whose `pio` is a spy noting every call in `agent.calls`."""
    unit = f"{prefix}{secrets.token_hex(3)}"
    wrapper = make_sim_unit(base / "unit", unit, broker.host, broker.port)
    calls = base / "pio-calls.txt"
    spy = write_spy(base / "pio-spy", wrapper, calls)
    agent = AgentProc(base, unit, broker, spy, base / "unit", **settings)
    agent.calls = calls
    agent.start()
    try:
        yield agent
    finally:
        agent.request("POST", "/unit_api/jobs/stop", {"all_jobs": True})
        agent.close()

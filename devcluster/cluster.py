"""A whole cluster as real processes: broker, N agents (gunicorn web + huey worker, each with its own
pio-sim or real-pio unit), leader web (gunicorn) and leader worker (`python -m leader.worker`).

Used by the cluster tests and by `make run` (devcluster/__main__.py).

    cluster = Cluster(tmp_path, units=3).start()
    cluster.api("POST", "/api/experiments", json={"name": "exp"})
    ...
    cluster.stop()

`leader_url`, `api_token` (an admin's Bearer token for /api), `agents` (name, port, web and worker processes)
are public; so are `leader_web`, `leader_worker` and `restart_leader_worker()` for crash tests. With
`people=True` (the default) the store also has an `admin` and a `viewer` account with random passwords
(`admin_password`, `viewer_password`) and setup is complete. Every process runs in its own process group
and logs to a file under the work directory; `stop()` ends them all.
"""

from __future__ import annotations

import os
import secrets
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from .broker import Broker
from .cleanup import stop_unit_jobs
from .procs import Proc, free_port, http_ok, wait_for
from .units import make_real_unit, make_sim_unit, unit_paths

REPO = Path(__file__).resolve().parents[1]
PY = sys.executable


def _private(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text + "\n")


def _toml(values: dict[str, Any]) -> str:
    lines = []
    for key, value in values.items():
        if isinstance(value, bool):
            lines.append(f"{key} = {'true' if value else 'false'}")
        elif isinstance(value, (int, float)):
            lines.append(f"{key} = {value}")
        else:
            lines.append(f'{key} = "{value}"')
    return "\n".join(lines) + "\n"


class StartCancelled(Exception):
    """`Cluster.cancel` was set while the cluster was starting (the demo got Ctrl-C)."""


@dataclass
class Agent:
    name: str
    port: int
    dir: Path
    config: Path
    web: Proc | None = None
    worker: Proc | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def env(self) -> dict[str, str]:
        return {"UNIT_AGENT_CONFIG": str(self.config), "APP_ENV": "production"}

    def start_web(self) -> None:
        argv = [PY, "-OO", "-m", "gunicorn", "--config", str(REPO / "deploy/unit_agent/gunicorn.conf.py")]
        self.web = Proc(argv, self.dir / "web.log", self.env(), cwd=REPO)

    def start_worker(self) -> None:
        argv = [PY, "-OO", "-m", "huey.bin.huey_consumer", "unit_agent.worker.huey", "-w", "4"]
        argv += ["-k", "thread", "-d", "0.01", "-m", "0.05", "-b", "1.1", "-n"]
        self.worker = Proc(argv, self.dir / "worker.log", self.env(), cwd=REPO)

    def ready(self) -> bool:
        return http_ok(self.url + "/unit_api/health")

    def stop(self) -> None:
        for proc in (self.web, self.worker):
            if proc:
                proc.stop()


@dataclass
class Cluster:
    workdir: Path
    units: int = 3
    broker: Broker | None = None
    sim_speed: float | None = None
    pio: str = "sim"  # or "real": the real pio 26.11.1 in testing mode (needs Python 3.13)
    leader_port: int = 0  # 0: a free port
    leader_settings: dict[str, Any] = field(default_factory=dict)
    agent_settings: dict[str, Any] = field(
        default_factory=dict
    )  # extra unit_agent.toml settings, every agent
    web_workers: int = 2
    people: bool = True  # an admin and a viewer account, setup complete (False: a fresh, unset-up leader)
    app_env: str = "production"  # "development": /api and pages without credentials (browser tests)
    agents: list[Agent] = field(default_factory=list)
    cancel: threading.Event | None = None  # set: start() stops waiting and raises StartCancelled

    def __post_init__(self) -> None:
        self.workdir = Path(self.workdir)
        self._own_broker = self.broker is None
        self.leader_dir = self.workdir / "leader"
        self.leader_port = self.leader_port or free_port()
        self.leader_config = self.leader_dir / "leader.toml"
        self.cluster_token = secrets.token_urlsafe(32)
        self.api_token = ""
        self.admin_user, self.admin_password = "admin", ""
        self.viewer_user, self.viewer_password = "viewer", ""
        self.leader_web: Proc | None = None
        self.leader_worker: Proc | None = None
        self.session = requests.Session()
        # A kept-alive connection the leader closes (its keepalive is 5 s) just as a request goes out fails
        # with "Connection aborted": idempotent requests go again on a new connection; POST never does.
        retry = Retry(total=2, connect=2, read=2, status=0, other=0, backoff_factor=0, raise_on_status=False)
        self.session.mount("http://", HTTPAdapter(max_retries=retry))

    @property
    def leader_url(self) -> str:
        return f"http://127.0.0.1:{self.leader_port}"

    # -- start / stop ------------------------------------------------------------------------------
    def start(self, timeout: float = 45.0) -> Cluster:
        try:
            self._start(timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def _cancelled(self) -> bool:
        if self.cancel is not None and self.cancel.is_set():
            raise StartCancelled()
        return False

    def _start(self, timeout: float) -> None:
        self._cancelled()
        if self.broker is None:
            self.broker = Broker(self.workdir / "broker").start()
        for i in range(self.units):
            self.agents.append(self._write_agent(f"unit{i + 1}"))
        self._write_leader()
        for agent in self.agents:
            agent.start_web()
            agent.start_worker()
        self._start_leader_web()
        self.start_leader_worker()
        for agent in self.agents:

            def agent_ready(a: Agent = agent) -> bool:
                return not self._cancelled() and self._alive(a.web) and a.ready()

            wait_for(agent_ready, timeout, 0.1, f"agent {agent.name}")
        wait_for(
            lambda: (
                not self._cancelled()
                and self._alive(self.leader_web)
                and http_ok(self.leader_url + "/api/health")
            ),
            timeout,
            0.1,
            "leader web",
        )
        for agent in self.agents:
            self._cancelled()
            r = self.api(
                "POST", "/api/units", json={"name": agent.name, "address": "127.0.0.1", "port": agent.port}
            )
            assert r.status_code == 201, r.text

    def stop(self) -> None:
        self.session.close()  # first: gunicorn's graceful stop waits for idle keep-alive connections
        procs = [self.leader_web, self.leader_worker] + [p for a in self.agents for p in (a.web, a.worker)]
        with ThreadPoolExecutor(8) as pool:  # SIGTERM grace periods overlap
            list(pool.map(lambda p: p.stop() if p else None, procs))
        self.leader_web = self.leader_worker = None
        for agent in self.agents:
            agent.web = agent.worker = None
        # jobs are detached from their agents (an agent restart must not stop a culture): stop them too
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(lambda a: stop_unit_jobs(a.dir / "unit"), self.agents))
        if self._own_broker and self.broker:
            self.broker.stop()

    def __enter__(self) -> Cluster:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- leader ------------------------------------------------------------------------------------
    def _write_leader(self) -> None:
        from leader import passwords, setup
        from leader.db import connect, migrate, users
        from leader.db import tokens as tokens_db

        self.leader_dir.mkdir(parents=True, exist_ok=True)
        _private(self.leader_dir / "cluster_token", self.cluster_token)
        assert self.broker is not None
        settings = {
            "SECRET_KEY": secrets.token_hex(32),
            "LISTEN": f"127.0.0.1:{self.leader_port}",
            "DATABASE": str(self.leader_dir / "leader.sqlite"),
            "HUEY_DB": str(self.leader_dir / "huey.sqlite"),
            "CLUSTER_TOKEN_FILE": str(self.leader_dir / "cluster_token"),
            "MQTT_URL": self.broker.url,
            "CONTRIB_DIR": str(REPO / "contrib"),
            "OPERATION_DEADLINE": 20.0,
            "AGENT_READ_TIMEOUT": 5.0,
            **self.leader_settings,
        }
        self.leader_config.write_text(_toml(settings))
        migrate.init_db(settings["DATABASE"])  # what `flask --app leader init-db` does
        db = connect(settings["DATABASE"])
        try:
            self.api_token = tokens_db.create(db, "cluster-tests", "admin").token
            if self.people:
                self.admin_password = secrets.token_urlsafe(12)
                self.viewer_password = secrets.token_urlsafe(12)
                for name, password, role in (
                    (self.admin_user, self.admin_password, "admin"),
                    (self.viewer_user, self.viewer_password, "viewer"),
                ):
                    users.create(db, name, passwords.hash_password(password), role)
                setup.complete(db, "devcluster")
        finally:
            db.close()

    def leader_env(self) -> dict[str, str]:
        return {
            "LEADER_CONFIG": str(self.leader_config),
            "LEADER_INSTANCE_PATH": str(self.leader_dir),
            "LEADER_WEB_WORKERS": str(self.web_workers),
            "APP_ENV": self.app_env,
        }

    @property
    def metrics_dir(self) -> Path:
        """prometheus_client's multiprocess folder of the leader web (emptied by gunicorn at start)."""
        return self.leader_dir / "web-metrics"

    def _start_leader_web(self) -> None:
        argv = [PY, "-m", "gunicorn", "--config", str(REPO / "deploy/leader/gunicorn.conf.py")]
        env = {**self.leader_env(), "PROMETHEUS_MULTIPROC_DIR": str(self.metrics_dir)}
        self.leader_web = Proc(argv, self.leader_dir / "web.log", env, cwd=REPO)

    def start_leader_worker(self) -> None:
        self.leader_worker = Proc(
            [PY, "-m", "leader.worker"], self.leader_dir / "worker.log", self.leader_env(), cwd=REPO
        )

    def restart_leader_worker(self, sig: int | None = None) -> None:
        """Kill the worker (SIGKILL by default: a crash) and start a new one."""
        import signal

        assert self.leader_worker is not None
        self.leader_worker.kill(sig or signal.SIGKILL)
        self.leader_worker.popen.wait(10)
        self.leader_worker.stop()
        self.start_leader_worker()

    # -- agents ------------------------------------------------------------------------------------
    def _write_agent(self, name: str) -> Agent:
        assert self.broker is not None
        base = self.workdir / name
        if self.pio == "real":
            pio = make_real_unit(base / "unit", name, self.broker.host, self.broker.port)
        else:
            pio = make_sim_unit(base / "unit", name, self.broker.host, self.broker.port, speed=self.sim_speed)
        paths = unit_paths(base / "unit")
        token_file = base / "token"
        _private(token_file, self.cluster_token)
        port = free_port()
        config = base / "unit_agent.toml"
        config.write_text(
            _toml(
                {
                    "unit": name,
                    "pio": str(pio),
                    "data_dir": str(base / "data"),
                    "dot_pioreactor": str(paths.dot),
                    "registry": str(paths.registry),
                    "listen": f"127.0.0.1:{port}",
                    "token_file": str(token_file),
                    "mqtt_url": self.broker.url,
                    "system_dry_run": True,
                    "log_level": "INFO",
                    **self.agent_settings,
                }
            )
        )
        return Agent(name, port, base, config)

    # -- demo ------------------------------------------------------------------------------------------
    def seed_demo_experiment(self, name: str) -> None:
        """An experiment with every unit assigned, so the first request of a demo has something to act on."""
        r = self.api("POST", "/api/experiments", json={"name": name, "description": "Demo experiment"})
        assert r.status_code == 201, r.text
        r = self.api("PUT", f"/api/experiments/{name}/units", json={"units": [a.name for a in self.agents]})
        assert r.status_code == 200, r.text

    def dead_processes(self) -> list[str]:
        """Names of the cluster's processes that have exited."""
        procs = {"leader web": self.leader_web, "leader worker": self.leader_worker}
        for a in self.agents:
            procs |= {f"{a.name} web": a.web, f"{a.name} worker": a.worker}
        if self.broker is not None:
            procs["broker"] = self.broker.proc
        return [name for name, proc in procs.items() if proc is None or not proc.alive()]

    # -- helpers -----------------------------------------------------------------------------------
    def api(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        headers = {"Authorization": f"Bearer {self.api_token}", **kwargs.pop("headers", {})}
        return self.session.request(method, self.leader_url + path, headers=headers, timeout=40, **kwargs)

    def logs(self) -> str:
        """Tails of every log, for assertion messages."""
        out = []
        for log in sorted(self.workdir.glob("**/*.log")):
            out.append(f"--- {log.relative_to(self.workdir)}\n{log.read_text(errors='replace')[-2000:]}")
        return "\n".join(out)

    @staticmethod
    def _alive(proc: Proc | None) -> bool:
        if proc is None or not proc.alive():
            raise RuntimeError(f"process exited early:\n{proc.output()[-3000:] if proc else ''}")
        return True

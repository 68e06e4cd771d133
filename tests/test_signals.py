"""Every long-running process of ours stops cleanly on SIGTERM/SIGINT, once or repeatedly, at any moment.

Each round starts the process, waits a random time (during its start-up as often as after it), sends 1-3
signals (SIGTERM/SIGINT mixed, random gaps) and requires: an exit within the deadline, an exit code that
says "stopped" (0, pio's own 1 for SIGINT, or a signal's default action when it came before the process
could install its handler: processes ignore stop signals once their cleanup is done), and no process left
behind (found by a marker in the environment every descendant inherits). Rounds per process:
SIGNAL_TEST_ROUNDS (default 5); the "50 times in a row" proof is
`SIGNAL_TEST_ROUNDS=50 pytest tests/test_signals.py` (SIGNAL_TEST_SEED replays a run).
"""

from __future__ import annotations

import contextlib
import os
import random
import signal
import subprocess
import sys
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import psutil
import pytest

from devcluster.broker import Broker
from devcluster.procs import free_port
from devcluster.units import make_sim_unit
from leader.db.migrate import init_db

REPO = Path(__file__).resolve().parent.parent
PY = sys.executable
ROUNDS = int(os.environ.get("SIGNAL_TEST_ROUNDS", "5"))
SIGNALS = (signal.SIGTERM, signal.SIGINT)


@dataclass
class Target:
    argv: list[str]
    env: dict[str, str]
    window: float  # the random delay before the first signal is drawn from [0, window]
    deadline: float = 10.0  # seconds from the first signal to the exit
    codes: set[int] = field(default_factory=lambda: {0})
    cwd: Path = REPO


def _left_behind(marker: str) -> list[str]:
    found = []
    for p in psutil.process_iter(["pid", "name", "status"]):
        try:
            if p.info["status"] == psutil.STATUS_ZOMBIE:
                continue
            if p.environ().get("SIGNAL_TEST_MARK") == marker:
                found.append(f"{p.info['pid']} {' '.join(p.cmdline())[:160]}")
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue
    return found


def _one_round(target: Target, log: Path, rng: random.Random) -> str | None:
    """None when the process stopped cleanly, else what went wrong."""
    marker = uuid.uuid4().hex
    env = {**os.environ, **target.env, "SIGNAL_TEST_MARK": marker}
    delay = rng.uniform(0, target.window)
    sent: list[int] = []
    with log.open("wb") as out:
        proc = subprocess.Popen(
            target.argv, env=env, cwd=target.cwd, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            try:
                proc.wait(delay)  # a random moment of its life; it must not end by itself before
                return f"exited by itself with {proc.returncode} before any signal"
            except subprocess.TimeoutExpired:
                pass
            for i in range(rng.randint(1, 3)):
                sig = rng.choice(SIGNALS)
                os.kill(proc.pid, sig)  # the process only, as a terminal's Ctrl-C or systemd would
                sent.append(sig)
                try:
                    proc.wait(rng.uniform(0, 0.4) if i < 2 else 0)
                    break
                except subprocess.TimeoutExpired:
                    pass
            try:
                code = proc.wait(target.deadline)
            except subprocess.TimeoutExpired:
                return (
                    f"still running {target.deadline}s after {_names(sent)} (sent {delay:.2f}s after start)"
                )
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
    allowed = target.codes | {-s for s in sent}  # a death by signal: it came before any handler existed
    if code == 1 and sent[0] == signal.SIGINT and _interpreter_starting(log):
        allowed.add(1)  # CPython's own exit for a KeyboardInterrupt before it has finished starting
    if code not in allowed:
        return f"exit code {code} after {_names(sent)} at {delay:.2f}s (allowed {sorted(allowed)})"
    if left := _left_behind(marker):
        for line in left:  # clean up before failing, so one failure does not spoil the next tests
            os.kill(int(line.split()[0]), signal.SIGKILL)
        return f"left behind after {_names(sent)} at {delay:.2f}s: {left}"
    return None


def _interpreter_starting(log: Path) -> bool:
    """The KeyboardInterrupt hit Python's bootstrap (site, runpy, imports), before any code of ours."""
    tail = log.read_text(errors="replace").strip().splitlines()[-3:]
    return bool(tail) and tail[-1] == "KeyboardInterrupt" and any("<frozen " in line for line in tail)


def _names(sent: list[int]) -> str:
    return "+".join(signal.Signals(s).name for s in sent)


def _stop_many_times(make: Callable[[int], Target], tmp_path: Path) -> None:
    rng = random.Random(os.environ.get("SIGNAL_TEST_SEED") or None)
    failures = []
    for i in range(ROUNDS):
        log = tmp_path / f"round{i}.log"
        problem = _one_round(make(i), log, rng)
        if problem:
            failures.append(f"round {i}: {problem}\n{log.read_text(errors='replace')[-1500:]}")
    assert not failures, f"{len(failures)}/{ROUNDS} rounds did not stop cleanly:\n" + "\n".join(failures)


def _leader_config(dir: Path, broker: Broker) -> Path:
    dir.mkdir(parents=True, exist_ok=True)
    config = dir / "leader.toml"
    config.write_text(
        f'SECRET_KEY = "{"s" * 40}"\n'
        f'DATABASE = "{dir / "leader.sqlite"}"\n'
        f'HUEY_DB = "{dir / "huey.sqlite"}"\n'
        f'CLUSTER_TOKEN_FILE = "{dir / "cluster_token"}"\n'
        f'MQTT_URL = "{broker.url}"\n'
        f'CONTRIB_DIR = "{REPO / "contrib"}"\n'
    )
    return config


def _leader_env(dir: Path, config: Path) -> dict[str, str]:
    return {"LEADER_CONFIG": str(config), "LEADER_INSTANCE_PATH": str(dir), "APP_ENV": "production"}


@pytest.mark.cluster
def test_demo_stops(tmp_path: Path) -> None:
    def make(i: int) -> Target:
        env = {
            "LEADER_PORT": str(free_port()),
            "DEMO_UNITS": "1",
            "DEMO_DIR": str(tmp_path / f"demo{i}"),
            "DEMO_INFO": str(tmp_path / f"demo{i}.json"),
        }
        return Target([PY, "-m", "devcluster"], env, window=6.0, deadline=10.0)

    _stop_many_times(make, tmp_path)


def test_leader_worker_stops(tmp_path: Path, mqtt_broker: Broker) -> None:
    def make(i: int) -> Target:
        dir = tmp_path / f"leader{i}"  # a new store each round: a signal may land during its migration
        return Target([PY, "-m", "leader.worker"], _leader_env(dir, _leader_config(dir, mqtt_broker)), 2.5)

    _stop_many_times(make, tmp_path)


def test_ingest_stops(tmp_path: Path, mqtt_broker: Broker) -> None:
    dir = tmp_path / "leader"
    config = _leader_config(dir, mqtt_broker)
    init_db(str(dir / "leader.sqlite"))
    _stop_many_times(lambda i: Target([PY, "-m", "leader.ingest"], _leader_env(dir, config), 2.0), tmp_path)


def _agent_config(dir: Path, broker: Broker) -> Path:
    pio = make_sim_unit(dir / "unit", "sig1", broker.host, broker.port)
    token = dir / "token"
    token.write_text("t" * 40 + "\n")
    token.chmod(0o600)
    config = dir / "unit_agent.toml"
    config.write_text(
        f'unit = "sig1"\npio = "{pio}"\ndata_dir = "{dir / "data"}"\n'
        f'dot_pioreactor = "{dir / "unit" / ".pioreactor"}"\nlisten = "127.0.0.1:{free_port()}"\n'
        f'token_file = "{token}"\nmqtt_url = "{broker.url}"\nsystem_dry_run = true\n'
    )
    return config


def test_agent_worker_stops(tmp_path: Path, mqtt_broker: Broker) -> None:
    config = _agent_config(tmp_path / "agent", mqtt_broker)
    argv = [PY, "-m", "huey.bin.huey_consumer", "unit_agent.worker.huey", "-w", "4", "-k", "thread"]
    argv += ["-d", "0.01", "-m", "0.05", "-b", "1.1", "-n"]
    env = {"UNIT_AGENT_CONFIG": str(config), "APP_ENV": "production"}
    _stop_many_times(lambda i: Target(argv, env, 2.5), tmp_path)


def test_pio_sim_job_stops(tmp_path: Path, mqtt_broker: Broker) -> None:
    def make(i: int) -> Target:
        # a unit per round: a job killed before it could handle the signal stays registered as running
        pio = make_sim_unit(tmp_path / f"unit{i}", "sig2", mqtt_broker.host, mqtt_broker.port)
        # pio's own codes: SIGTERM ends a job with 0, SIGINT with 1 ("Aborted!"), as real pio 26.11.1
        return Target([str(pio), "run", "stirring"], {}, 2.0, codes={0, 1})

    _stop_many_times(make, tmp_path)


STORM = """
import importlib, sys, threading, time
watcher = importlib.import_module(sys.argv[1]).watch()
busy = threading.Event()
print("ready", flush=True)
end = time.monotonic() + 1.5
while time.monotonic() < end:  # the main thread lives inside Event.wait, where a handler taking
    busy.wait(0.0001)          # the Event's lock would deadlock
print(watcher.count, flush=True)
"""


@pytest.mark.parametrize("module", ["leader.signals", "unit_agent.sim.signals"])
def test_the_watcher_survives_a_signal_storm(module: str) -> None:
    proc = subprocess.Popen([PY, "-c", STORM, module], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        sent = 0
        while proc.poll() is None and sent < 20_000:
            with contextlib.suppress(ProcessLookupError):
                os.kill(proc.pid, SIGNALS[sent % 2])
            sent += 1
        out, _ = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0 and int(out.strip()) >= 1, (proc.returncode, out)

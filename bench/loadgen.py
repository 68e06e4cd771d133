"""The three loads of bench/load.py: /api clients of several users, a paced MQTT publisher, SSE streams.

Not a bench of its own (`make bench` runs bench/load.py, which uses it).
"""

from __future__ import annotations

import contextlib
import itertools
import re
import sqlite3
import subprocess
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import requests

from devcluster.cluster import Cluster
from devcluster.procs import wait_for

THREADS = 64  # client threads: enough that slow answers (rate x latency) never hold up the schedule


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q / 100))]


def cpu_seconds(pgid: int) -> float:
    """CPU time (user + system) of every live process in a process group (a devcluster Proc's group)."""
    import os

    total, tick = 0.0, os.sysconf("SC_CLK_TCK")
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid:
            total += (int(fields[11]) + int(fields[12])) / tick
    return total


def iso(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


@dataclass
class User:
    name: str
    writes: bool
    headers: dict[str, str]
    cookies: dict[str, str] = field(default_factory=dict)


READS = [
    ("GET /api/units", "GET", "/api/units", None),
    ("GET /api/experiments", "GET", "/api/experiments", None),
    ("GET /api/experiments/<exp>/units", "GET", "/api/experiments/exp/units", None),
    ("GET /api/logs?experiment=<exp>", "GET", "/api/logs?experiment=exp&limit=50", None),
    ("GET /api/operations", "GET", "/api/operations?limit=20", None),
    (
        "GET /api/experiments/<exp>/time_series/<s>",
        "GET",
        "/api/experiments/exp/time_series/growth_rate",
        None,
    ),
    ("GET /api/me", "GET", "/api/me", None),
    ("GET /api/experiments/<exp>/jobs/running", "GET", "/api/experiments/exp/jobs/running", None),
]


def writes(n: int) -> tuple[str, str, str, Any]:
    kind = n % 4
    if kind == 0:
        return (
            "POST /api/experiments/<exp>/logs",
            "POST",
            "/api/experiments/exp/logs",
            {"message": f"note {n}"},
        )
    if kind == 1:
        return ("PATCH /api/experiments/<exp>", "PATCH", "/api/experiments/exp", {"description": f"load {n}"})
    if kind == 2:
        path = "/api/experiments/exp/units/unit1/label"
        return ("PUT /api/experiments/<exp>/units/<u>/label", "PUT", path, {"label": f"L{n % 100}"})
    return ("POST /api/experiments", "POST", "/api/experiments", {"name": f"load-{uuid.uuid4().hex[:12]}"})


@dataclass
class Load:
    count: int = 0
    rate: float = 0.0
    failed: int = 0
    locked: int = 0
    latencies: dict[str, list[float]] = field(default_factory=dict)
    statuses: Counter[int] = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)


class Clients:
    """Five users: tokens (admin, operator) and signed-in sessions (admin, operator, viewer)."""

    def __init__(self, cluster: Cluster) -> None:
        self.base = cluster.leader_url
        op_password = "load operator password"
        r = cluster.api(
            "POST", "/api/users", json={"name": "loadop", "password": op_password, "role": "operator"}
        )
        assert r.status_code == 201, r.text
        r = cluster.api("POST", "/api/tokens", json={"name": "load-operator", "role": "operator"})
        assert r.status_code == 201, r.text
        self.users = [
            User("token admin", True, {"Authorization": f"Bearer {cluster.api_token}"}),
            User("token operator", True, {"Authorization": f"Bearer {r.json()['token']}"}),
            self._signed_in("admin", cluster.admin_user, cluster.admin_password, True),
            self._signed_in("operator", "loadop", op_password, True),
            self._signed_in("viewer", cluster.viewer_user, cluster.viewer_password, False),
        ]

    def _signed_in(self, role: str, name: str, password: str, writes: bool) -> User:
        s = requests.Session()
        form = s.get(self.base + "/login", timeout=30)
        found = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
        assert found, form.text
        data = {"username": name, "password": password, "csrf_token": found[1], "next": ""}
        r = s.post(self.base + "/login", data=data, allow_redirects=False, timeout=30)
        assert r.status_code in (302, 303), r.text
        me = s.get(self.base + "/api/me", timeout=30).json()
        assert me["name"] == name, me
        return User(f"session {role}", writes, {"X-CSRFToken": me["csrf_token"]}, s.cookies.get_dict())

    def run(self, seconds: float, rate: float) -> Load:
        load, lock = Load(), threading.Lock()
        slots = itertools.count()
        total = int(seconds * rate)
        t0 = time.monotonic() + 0.2

        def client(k: int) -> None:
            session = requests.Session()
            while (i := next(slots)) < total:
                user = self.users[i % len(self.users)]
                # one request in five writes (a viewer reads instead)
                name, method, path, body = writes(i) if i % 5 == 0 and user.writes else READS[i % len(READS)]
                due = t0 + i / rate
                if (wait := due - time.monotonic()) > 0:
                    time.sleep(wait)  # pacing of the open-loop schedule, not a wait for an outcome
                started = time.perf_counter()
                try:
                    r = session.request(
                        method,
                        self.base + path,
                        json=body,
                        headers=user.headers,
                        cookies=user.cookies,
                        timeout=30,
                    )
                    status, text = r.status_code, r.text
                except requests.RequestException as exc:
                    status, text = 0, repr(exc)
                ms = (time.perf_counter() - started) * 1000
                with lock:
                    load.latencies.setdefault(name, []).append(ms)
                    load.statuses[status] += 1
                    load.locked += "database is locked" in text
                    if status >= 500 or status == 0 or (status >= 400 and status not in (409,)):
                        load.failed += status == 0
                        load.errors.append(f"{user.name}: {method} {path} -> {status} {text[:200]}")

        threads = [threading.Thread(target=client, args=(k,), daemon=True) for k in range(THREADS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        load.count = sum(load.statuses.values())
        load.rate = load.count / max(1e-9, time.monotonic() - t0)
        return load


class Publisher:
    """`mosquitto_pub -l` at QoS 1, fed lines at a paced rate: logs of unit `load1`, readings of `load2`."""

    def __init__(self, cluster: Cluster, binary: str, rate: float, workdir: Path, experiment: str) -> None:
        assert cluster.broker is not None
        self.db_path = cluster.leader_dir / "leader.sqlite"
        self.rate = 0.0
        self.target = rate
        self.logs_sent = self.readings_sent = 0
        self.lag_ms: list[float] = []
        self.last_sent = 0.0
        self._stop = threading.Event()
        args = [
            binary,
            "-h",
            cluster.broker.host,
            "-p",
            str(cluster.broker.port),
            "-q",
            "1",
            "-M",
            "2000",
            "-l",
        ]
        self.procs = {
            kind: subprocess.Popen(
                [*args, "-i", f"load-{kind}", "-t", topic],
                stdin=subprocess.PIPE,
                stdout=subprocess.DEVNULL,
                stderr=open(workdir / f"mosquitto_pub-{kind}.txt", "wb"),  # noqa: SIM115 (closed with the process)
            )
            for kind, topic in (
                ("logs", f"pioreactor/load1/{experiment}/logs/app/info"),
                ("readings", f"pioreactor/load2/{experiment}/growth_rate_calculating/growth_rate"),
            )
        }
        self._feeder = threading.Thread(target=self._feed, daemon=True)
        self._sampler = threading.Thread(target=self._sample, daemon=True)

    def start(self) -> None:
        self._t0 = time.monotonic()
        self._feeder.start()
        self._sampler.start()

    def _feed(self) -> None:
        logs, readings = self.procs["logs"].stdin, self.procs["readings"].stdin
        assert logs is not None and readings is not None
        sent, tick = 0, 0.01
        while not self._stop.is_set():
            due = int((time.monotonic() - self._t0) * self.target)
            now = time.time()
            log_lines, reading_lines = [], []
            for seq in range(sent, due):
                if seq % 10 == 9:  # one message in ten is a reading, one per millisecond of its own time
                    self.readings_sent += 1
                    ts = iso(self._t0_wall + self.readings_sent / 1000)
                    reading_lines.append(f'{{"growth_rate": {seq % 7 / 10}, "timestamp": "{ts}"}}\n')
                else:
                    self.logs_sent += 1
                    line = (
                        f'{{"task":"load","message":"seq={seq}","level":"INFO","timestamp":"{iso(now)}"}}\n'
                    )
                    log_lines.append(line)
            sent = max(sent, due)
            logs.write("".join(log_lines).encode())
            readings.write("".join(reading_lines).encode())
            logs.flush()
            readings.flush()
            self.last_sent = now
            self._stop.wait(tick)  # the pacing tick
        self.rate = sent / max(1e-9, time.monotonic() - self._t0)

    @property
    def _t0_wall(self) -> float:
        # readings' timestamps: a fixed grid from the start, so each is unique (the store's key)
        if not hasattr(self, "_wall"):
            self._wall = time.time()
        return self._wall

    def _query(self, sql: str) -> Any:
        db = sqlite3.connect(f"file:{self.db_path}?mode=ro", uri=True, timeout=10)
        try:
            return db.execute(sql).fetchone()[0]
        finally:
            db.close()

    def _sample(self) -> None:
        while not self._stop.wait(0.25):
            newest = self._query("SELECT max(ts) FROM logs WHERE unit = 'load1'")
            if newest:
                self.lag_ms.append(max(0.0, time.time() * 1000 - newest))

    def finish(self) -> None:
        self._stop.set()
        self._feeder.join(10)
        self._sampler.join(10)
        for proc in self.procs.values():
            assert proc.stdin is not None
            proc.stdin.close()
        for proc in self.procs.values():
            proc.wait(120)  # exits once the broker acknowledged every QoS-1 message

    def stored(self) -> int:
        return int(self._query("SELECT count(*) FROM logs WHERE unit = 'load1'"))

    def readings_stored(self) -> int:
        return int(self._query("SELECT count(*) FROM readings WHERE unit = 'load2'"))

    def wait_stored(self, timeout: float) -> float:
        """Seconds from the last message sent until every acknowledged log is stored."""
        with contextlib.suppress(TimeoutError):  # reported as stored < published
            wait_for(lambda: self.stored() >= self.logs_sent, timeout, 0.1, "every log stored")
        return time.time() - self.last_sent


class Streams:
    """SSE streams of the experiment's events, held open and read until stopped."""

    def __init__(self, cluster: Cluster, n: int) -> None:
        self.url = cluster.leader_url + "/api/experiments/exp/events"
        self.headers = {"Authorization": f"Bearer {cluster.api_token}"}
        self.n = n
        self.opened = threading.Semaphore(0)
        self.events = 0
        self.open = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._responses: list[requests.Response] = []

    def start(self) -> Streams:
        for _ in range(self.n):
            threading.Thread(target=self._hold, daemon=True).start()
        for _ in range(self.n):
            if not self.opened.acquire(timeout=60):
                raise RuntimeError("SSE streams did not all open within 60 s")
        return self

    def _hold(self) -> None:
        released = False
        try:
            with requests.get(self.url, headers=self.headers, stream=True, timeout=(10, 60)) as r:
                with self._lock:
                    self.open += r.status_code == 200
                    self._responses.append(r)
                self.opened.release()
                released = True
                for line in r.iter_lines():
                    if line.startswith(b"data:"):
                        with self._lock:
                            self.events += 1
                    if self._stop.is_set():
                        return
        except Exception:  # a failed open, or the close at the end of the run
            if not released:
                self.opened.release()  # counted as not open

    def stop(self) -> tuple[int, int]:
        self._stop.set()
        with self._lock:
            for r in self._responses:
                r.close()
        return self.open, self.events

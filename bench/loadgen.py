"""The three loads of bench/load.py: /api clients of several users, a paced MQTT publisher, SSE streams.

Not a bench of its own (`make bench` runs bench/load.py, which uses it; the publisher is in loadpub.py).
"""

from __future__ import annotations

import itertools
import re
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import requests

from devcluster.cluster import Cluster

THREADS = 64  # client threads: enough that slow answers (rate x latency) never hold up the schedule


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q / 100))]


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

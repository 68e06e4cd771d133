"""GET /metrics: format (prometheus_client's own parser), credentials, counters that move, and every
gunicorn worker's requests counted (a real gunicorn with several workers)."""

from __future__ import annotations

import os
import secrets
import signal
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient
from prometheus_client.parser import text_string_to_metric_families

from devcluster.procs import free_port, running, wait_for
from leader import metrics
from leader.db import connect, migrate
from leader.db import presence as presence_db
from leader.db import tokens as tokens_db
from tests.conftest import REPO
from tests.leader.conftest import api_client, make_app, with_standins
from tests.leader.standin import StandIn

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def parse(text: str) -> Samples:
    out: Samples = {}
    for family in text_string_to_metric_families(text):
        assert family.name.startswith("pioreactor_"), family.name
        for s in family.samples:
            out[(s.name, frozenset(s.labels.items()))] = s.value
    return out


def value(found: Samples, name: str, **labels: str) -> float:
    return found.get((name, frozenset(labels.items())), 0.0)


def total(found: Samples, name: str, **labels: str) -> float:
    """Sum over every series of `name` whose labels include `labels`."""
    want = set(labels.items())
    return sum(v for (n, ls), v in found.items() if n == name and want <= ls)


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[tuple[Flask, FlaskClient, list[StandIn]]]:
    with with_standins(tmp_path, 2) as found:
        yield found


def test_credentials_and_public_setting(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    assert app.test_client().get("/metrics").status_code == 401
    assert app.test_client().get("/metrics", headers={"Authorization": "Bearer nope"}).status_code == 401
    r = api_client(app).get("/metrics")
    assert r.status_code == 200 and r.mimetype == "text/plain"
    parse(r.data.decode())
    public = make_app(tmp_path / "public", METRICS_PUBLIC=True)
    assert public.test_client().get("/metrics").status_code == 200
    assert public.test_client().get("/api/units").status_code == 401  # only /metrics is opened


def test_counters_move_when_operations_run(cluster: tuple[Flask, FlaskClient, list[StandIn]]) -> None:
    app, client, agents = cluster
    before = parse(client.get("/metrics").data.decode())
    assert value(before, "pioreactor_units", presence="unknown") == 2
    ok = client.post("/api/experiments/exp/jobs/stirring/start?wait=10", json={}).json["operation"]
    assert ok["status"] == "succeeded", ok
    agents[1].stop()
    partial = client.post("/api/experiments/exp/jobs/od_reading/start?wait=10", json={}).json["operation"]
    assert partial["status"] == "partial", partial
    db = connect(app.config["DATABASE"])
    presence_db.apply_presence(
        db, [("pio0", "online", time.time(), None), ("pio1", "lost", time.time(), None)]
    )
    db.execute(
        "INSERT INTO job_states (unit, experiment, job, state, updated_at) "
        "VALUES ('pio0', 'exp', 'stirring', 'ready', 1)"
    )
    metrics.schedule_fired(2.5, db)
    db.close()
    for _ in range(3):
        client.get("/api/units/pio0")
    after = parse(client.get("/metrics").data.decode())
    kind = ok["kind"]
    assert (
        total(after, "pioreactor_operations_total", kind=kind, status="succeeded")
        == total(before, "pioreactor_operations_total", kind=kind, status="succeeded") + 1
    )
    assert total(after, "pioreactor_operations_total", status="partial") == 1
    assert value(after, "pioreactor_units", presence="online") == 1
    assert value(after, "pioreactor_units", presence="lost") == 1
    assert value(after, "pioreactor_running_jobs", job_name="stirring") == 1
    assert value(after, "pioreactor_schedule_firings_total") == 1
    assert value(after, "pioreactor_schedule_lateness_seconds_sum") == 2.5
    assert value(after, "pioreactor_store_size_bytes", file="db") > 0
    # by route: the endpoint's name, never the raw path
    assert (
        value(
            after, "pioreactor_http_requests_total", endpoint="api.units.get_unit", method="GET", status="200"
        )
        >= 3
    )
    assert not [k for k in after if "pio0" in dict(k[1]).get("endpoint", "")]
    assert total(after, "pioreactor_http_request_duration_seconds_count", endpoint="api.units.get_unit") >= 3


# -- gunicorn with several workers -----------------------------------------------------------------------
def _leader_files(tmp_path: Path, port: int) -> tuple[dict[str, str], str]:
    db_path = tmp_path / "leader.sqlite"
    (tmp_path / "leader.toml").write_text(
        f'SECRET_KEY = "{secrets.token_hex(16)}"\nLISTEN = "127.0.0.1:{port}"\nDATABASE = "{db_path}"\n'
        f'HUEY_DB = "{tmp_path / "huey.sqlite"}"\nCLUSTER_TOKEN_FILE = "{tmp_path / "cluster_token"}"\n'
    )
    migrate.init_db(str(db_path))
    db = connect(str(db_path))
    token = tokens_db.create(db, "metrics").token
    db.close()
    env = {
        "LEADER_CONFIG": str(tmp_path / "leader.toml"),
        "LEADER_INSTANCE_PATH": str(tmp_path),
        "LEADER_WEB_WORKERS": "3",
        "APP_ENV": "production",
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "prom"),
    }
    return env, token


def test_every_gunicorn_worker_is_counted(tmp_path: Path) -> None:
    port = free_port()
    env, token = _leader_files(tmp_path, port)
    stale = tmp_path / "prom" / "counter_999999.db"
    stale.parent.mkdir()
    stale.write_bytes(b"a previous run's counts")
    url = f"http://127.0.0.1:{port}"
    argv = [sys.executable, "-m", "gunicorn", "--config", str(REPO / "deploy/leader/gunicorn.conf.py")]
    with running(argv, tmp_path / "web.log", health_url=url + "/api/health", env=env) as web:
        assert not stale.exists()  # emptied at start
        auth = {"Authorization": f"Bearer {token}"}

        def scrape() -> Samples:
            r = requests.get(url + "/metrics", headers=auth, timeout=10)
            assert r.status_code == 200, r.text
            return parse(r.text)

        def health_count(found: Samples) -> float:
            return total(found, "pioreactor_http_requests_total", endpoint="api.health.health", status="200")

        base = health_count(scrape())
        n = 300

        def hit(_: int) -> int:
            # a new connection each time (no keep-alive), so the kernel hands them to every worker
            return requests.get(url + "/api/health", headers={"Connection": "close"}, timeout=10).status_code

        with ThreadPoolExecutor(12) as pool:
            assert set(pool.map(hit, range(n))) == {200}
        found = scrape()
        assert health_count(found) == base + n
        pids = {
            dict(k[1])["pid"] for k, v in found.items() if k[0] == "pioreactor_http_worker_requests" and v > 0
        }
        assert len(pids) > 1, f"only worker(s) {pids} served {n} requests"

        # a worker that dies keeps its counts (its files stay); its live gauge goes
        victim = int(sorted(pids)[0])
        os.kill(victim, signal.SIGKILL)
        wait_for(lambda: victim not in _children(web.pid), 10, 0.05, "gunicorn to reap the killed worker")
        wait_for(lambda: len(_children(web.pid)) == 3, 20, 0.05, "a replacement worker")
        after = scrape()
        assert health_count(after) == base + n
        live = {dict(k[1])["pid"] for k in after if k[0] == "pioreactor_http_worker_requests"}
        assert str(victim) not in live


def _children(pid: int) -> set[int]:
    out = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                out.add(int(entry.name))
    return out

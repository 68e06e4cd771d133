"""Both services against their own OpenAPI documents: schemathesis, every check, on a running cluster.

Schema-valid requests must be accepted or answered with a documented status, schema-invalid ones refused,
answers must match the documented schemas, a 405 carries `Allow`, and nothing answers 500. Excluded: only
what would take the cluster down (the agent's reboot/shutdown/update, plugin install/uninstall); the run's
own API token and the agent's cluster token are kept by tests/cluster/schemathesis_hooks.py.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from devcluster.broker import Broker
from devcluster.cluster import Cluster

pytestmark = [pytest.mark.cluster, pytest.mark.xdist_group("openapi_conformance"), pytest.mark.timeout(600)]

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
AGENT_EXCLUDED = r"^/unit_api/(system/(reboot|shutdown|update)|plugins/(install|uninstall))$"


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory, mqtt_broker: Broker) -> Iterator[Cluster]:
    # generated units have addresses that answer nothing: give up on them soon (`?wait=` holds a request)
    quick = {"OPERATION_DEADLINE": 2.0, "AGENT_CONNECT_TIMEOUT": 1.0, "AGENT_READ_TIMEOUT": 2.0}
    # an experiment's event stream ends only when its lifetime does (a browser reconnects by itself)
    quick |= {"SSE_MAX_SECONDS": 2.0, "SSE_KEEPALIVE": 0.5}
    c = Cluster(tmp_path_factory.mktemp("conformance"), units=1, broker=mqtt_broker, leader_settings=quick)
    c.start()
    try:
        c.seed_demo_experiment("exp")
        yield c
    finally:
        c.stop()


def _schemathesis(url: str, token: str, tmp_path: Path, *args: str, **env: str) -> str:
    argv = [sys.executable, "-m", "schemathesis.cli", "--config-file", str(HERE / "schemathesis.toml")]
    argv += ["run", url, "--checks", "all", "-H", f"Authorization: Bearer {token}", "--workers", "1"]
    argv += ["--seed", os.environ.get("ST_SEED", "11"), "--no-color", *args]
    started = time.monotonic()
    done = subprocess.run(
        argv,
        cwd=REPO,
        env={**os.environ, "SCHEMATHESIS_HOOKS": "tests.cluster.schemathesis_hooks", **env},
        capture_output=True,
        text=True,
        timeout=540,
        check=False,
    )
    out = done.stdout + done.stderr
    (tmp_path / "schemathesis.txt").write_text(out)
    print(f"schemathesis {url}: {time.monotonic() - started:.1f} s")
    assert done.returncode == 0, out[-20000:]
    return out


def test_leader_matches_its_openapi_document(cluster: Cluster, tmp_path: Path) -> None:
    tokens = cluster.api("GET", "/api/tokens").json()
    own = next(t["id"] for t in tokens if t["name"] == "cluster-tests")
    out = _schemathesis(
        cluster.leader_url + "/api/openapi.json", cluster.api_token, tmp_path, ST_KEEP_TOKEN_ID=str(own)
    )
    assert " passed" in out, out[-5000:]
    assert cluster.api("GET", "/api/tokens").status_code == 200  # the run kept its own credentials
    assert not cluster.dead_processes()


def test_agent_matches_its_openapi_document(cluster: Cluster, tmp_path: Path) -> None:
    agent = cluster.agents[0]
    _schemathesis(
        agent.url + "/unit_api/openapi.json",
        cluster.cluster_token,
        tmp_path,
        "--exclude-path-regex",
        AGENT_EXCLUDED,
        ST_CLUSTER_TOKEN=cluster.cluster_token,
    )
    r = requests.get(
        agent.url + "/unit_api/versions",
        headers={"Authorization": f"Bearer {cluster.cluster_token}"},
        timeout=10,
    )
    assert r.status_code == 200, r.text  # the agent still accepts the cluster's token
    assert not cluster.dead_processes()

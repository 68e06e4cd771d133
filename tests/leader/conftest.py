"""Leader unit-test fixtures: an app on a fresh SQLite store in a temp folder, and an API token."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from devcluster.store_fill import leader_app
from leader import cluster_token, setup
from leader.db import connect
from leader.db import tokens as tokens_db
from leader.ingest import descriptors
from leader.ingest.writer import BatchWriter, Message
from tests.conftest import REPO
from tests.leader.standin import StandIn


def make_app(tmp: Path, **overrides: Any) -> Flask:
    """A leader app on a fresh store in `tmp`, its agent calls and operations quick to give up."""
    quick = {"OPERATION_DEADLINE": 5.0, "AGENT_CONNECT_TIMEOUT": 1.0, "AGENT_READ_TIMEOUT": 3.0}
    return leader_app(tmp, **{**quick, **overrides})


def api_client(app: Flask, role: str = "admin") -> FlaskClient:
    """A test client that sends a fresh API token of `role` with every request."""
    db = connect(app.config["DATABASE"])
    try:
        token = tokens_db.create(db, "tests", role).token
    finally:
        db.close()
    client = app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    return client


def ingest_in_order(api: FlaskClient, msgs: list[Message]) -> BatchWriter:
    """The ingest's writer storing each message in its own transaction, so the store changes in the order
    given (a batch goes by kind); the writer, for what it remembers."""
    db = connect(api.application.config["DATABASE"])
    writer = BatchWriter(lambda: db, descriptors.router(str(REPO / "contrib")))
    try:
        for m in msgs:
            writer.write(db, [m])
    finally:
        db.close()
    return writer


@contextmanager
def with_standins(
    tmp: Path, units: int, experiment: bool = True
) -> Iterator[tuple[Flask, FlaskClient, list[StandIn]]]:
    """A leader app (operations run inside the request, 2 s deadline), `units` stand-in agents pio0, pio1, …
    registered, an admin API client, and with `experiment` the experiment `exp` holding every unit."""
    app = make_app(tmp, HUEY_IMMEDIATE=True, OPERATION_DEADLINE=2.0)
    token = cluster_token.read(app.config["CLUSTER_TOKEN_FILE"])
    agents = [StandIn(f"pio{i}", token).start() for i in range(units)]
    try:
        client = api_client(app)
        for a in agents:
            r = client.post("/api/units", json={"name": a.unit, "address": "127.0.0.1", "port": a.port})
            assert r.status_code == 201, r.json
        if experiment:
            names = [a.unit for a in agents]
            assert client.post("/api/experiments", json={"name": "exp"}).status_code == 201
            r = client.put("/api/experiments/exp/units", json={"units": names})
            assert r.json == {"units": names, "labels": {}}, r.json
        yield app, client, agents
    finally:
        for a in agents:
            a.stop()


@pytest.fixture
def app(tmp_path: Path) -> Flask:
    return make_app(tmp_path)


@pytest.fixture
def setup_done(app: Flask) -> None:
    """The setup wizard finished: a leader whose setup is incomplete leads every page to /setup. Pages'
    tests use it (`pytestmark = pytest.mark.usefixtures("setup_done")`)."""
    db = connect(app.config["DATABASE"])
    try:
        setup.complete(db, "test")
    finally:
        db.close()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def token(app: Flask) -> str:
    db = connect(app.config["DATABASE"])
    try:
        return tokens_db.create(db, "tests").token
    finally:
        db.close()


@pytest.fixture
def api(client: FlaskClient, token: str) -> Iterator[FlaskClient]:
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    yield client

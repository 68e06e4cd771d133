"""Leader unit-test fixtures: an app on a fresh SQLite store in a temp folder, and an API token."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from leader import create_app
from leader.db import connect
from leader.db import tokens as tokens_db


def make_app(tmp: Path, **overrides: Any) -> Flask:
    config = {
        "SECRET_KEY": "test-" + "k" * 40,
        "INSTANCE_PATH": str(tmp),
        "DATABASE": str(tmp / "leader.sqlite"),
        "HUEY_DB": str(tmp / "huey.sqlite"),
        "CLUSTER_TOKEN_FILE": str(tmp / "cluster_token"),
        "OPERATION_DEADLINE": 5.0,
        "AGENT_CONNECT_TIMEOUT": 1.0,
        "AGENT_READ_TIMEOUT": 3.0,
        **overrides,
    }
    return create_app(config)


def api_client(app: Flask) -> FlaskClient:
    """A test client that sends a fresh API token with every request."""
    db = connect(app.config["DATABASE"])
    try:
        token = tokens_db.create(db, "tests").token
    finally:
        db.close()
    client = app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    return client


@pytest.fixture
def app(tmp_path: Path) -> Flask:
    return make_app(tmp_path)


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

"""Ingest fixtures: a migrated store, an app and its API client, the repository's contrib descriptors, the
real pio capture."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from leader.db import connect
from leader.db.migrate import init_db
from leader.ingest import descriptors
from leader.ingest.parse import Router
from leader.ingest.writer import Message

# `app`: a leader app on a fresh store (a test module may define its own, e.g. one holding experiments)
from tests.leader.conftest import api_client, app  # noqa: F401

REPO = Path(__file__).resolve().parents[2]
CAPTURE = REPO / "tests" / "fixtures" / "pio-26.11.1-mqtt-capture.txt"


def capture_messages() -> list[Message]:
    """`<epoch> <qos> <topic> <payload...>` lines as messages (the payload may be empty or hold spaces)."""
    out = []
    for line in CAPTURE.read_text().splitlines():
        parts = line.split(" ", 3)
        if len(parts) < 3:
            continue
        payload = parts[3] if len(parts) == 4 else ""
        out.append(Message(parts[2], payload.encode(), float(parts[0])))
    return out


@pytest.fixture
def db_path(tmp_path: Path) -> str:
    path = str(tmp_path / "leader.sqlite")
    init_db(path)
    return path


@pytest.fixture
def db(db_path: str) -> Iterator[sqlite3.Connection]:
    conn = connect(db_path)
    yield conn
    conn.close()


@pytest.fixture
def api(app: Flask) -> FlaskClient:  # noqa: F811 - `app` is the fixture imported above
    """An admin API client of the app."""
    return api_client(app)


@pytest.fixture(scope="session")
def router() -> Router:
    return descriptors.router(str(REPO / "contrib"))

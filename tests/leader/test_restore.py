"""Restoring an archived experiment (POST /api/experiments/<exp>/restore): live again with its data as kept,
audited; refused for an unknown name (404), a live experiment (409) and one whose data is being deleted."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from leader.db import connect, experiment_data
from tests.leader.conftest import api_client


def _error(r: Any, status: int, code: str, words: str) -> None:
    assert r.status_code == status, (r.status_code, r.json)
    assert r.json["error"] == code and words in r.json["message"], r.json


@pytest.fixture
def archived(app: Flask) -> FlaskClient:
    """An operator's client; experiment `exp` with a label and a log entry, archived keeping its data;
    units pio0 and pio1 registered (pio0 was in `exp`)."""
    op = api_client(app, "operator")
    admin = api_client(app)
    for unit in ("pio0", "pio1"):
        r = admin.post("/api/units", json={"name": unit, "address": "127.0.0.1", "port": 4999})
        assert r.status_code == 201, r.json
    assert op.post("/api/experiments", json={"name": "exp", "description": "yeast"}).status_code == 201
    assert op.put("/api/experiments/exp/units", json={"units": ["pio0"]}).status_code == 200
    assert op.put("/api/experiments/exp/units/pio0/label", json={"label": "blue"}).status_code == 200
    assert op.post("/api/experiments/exp/logs", json={"message": "inoculated"}).status_code == 201
    assert op.delete("/api/experiments/exp/units/pio0").status_code == 204
    assert op.delete("/api/experiments/exp?data=keep").status_code == 204
    return op


def test_restore_brings_it_back_with_its_data_and_is_audited(app: Flask, archived: FlaskClient) -> None:
    op = archived
    r = op.post("/api/experiments/exp/restore")
    assert r.status_code == 200, r.json
    assert r.json == op.get("/api/experiments/exp").json  # the experiment as GET answers it
    assert r.json["archived_at"] is None and r.json["description"] == "yeast"
    assert [e["archived_at"] for e in op.get("/api/experiments").json] == [None]
    assert [e["message"] for e in op.get("/api/logs?experiment=exp").json["logs"]] == ["inoculated"]
    # a live experiment again: units join it (the old label comes back with its unit), its name stays taken
    r = op.put("/api/experiments/exp/units", json={"units": ["pio0", "pio1"]})
    assert r.json == {"units": ["pio0", "pio1"], "labels": {"pio0": "blue"}}, r.json
    _error(op.post("/api/experiments", json={"name": "exp"}), 409, "conflict", "already exists")
    # …and is archived again like any other: not while units are assigned
    _error(op.delete("/api/experiments/exp?data=keep"), 409, "units_assigned", "end it first")

    entries = api_client(app).get("/api/audit?action=experiment.restore").json["entries"]
    assert [(e["target"], e["actor"].startswith("token:")) for e in entries] == [("exp", True)], entries


def test_restore_refuses_unknown_and_live_experiments(archived: FlaskClient) -> None:
    op = archived
    _error(op.post("/api/experiments/nope/restore"), 404, "not_found", "nope")
    assert op.post("/api/experiments", json={"name": "live"}).status_code == 201
    _error(op.post("/api/experiments/live/restore"), 409, "not_archived", "not archived")
    assert op.post("/api/experiments/exp/restore").status_code == 200
    _error(op.post("/api/experiments/exp/restore"), 409, "not_archived", "not archived")  # twice: no


def test_restore_needs_an_operator(app: Flask, archived: FlaskClient) -> None:
    _error(api_client(app, "viewer").post("/api/experiments/exp/restore"), 403, "forbidden", "operator")
    assert app.test_client().post("/api/experiments/exp/restore").status_code == 401
    assert archived.get("/api/experiments/exp").json["archived_at"]  # neither changed anything


def test_no_restore_while_its_data_is_being_deleted(
    app: Flask, archived: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A restore sent while `?data=delete` runs its batches is refused naming why; so is one after such a
    deletion was interrupted, which deleting again finishes."""
    op = archived
    answers = []
    purge_readings = experiment_data._purge_readings

    def meanwhile(db: Any, name: str) -> int:
        answers.append(api_client(app, "operator").post(f"/api/experiments/{name}/restore"))
        return purge_readings(db, name)

    monkeypatch.setattr(experiment_data, "_purge_readings", meanwhile)
    assert op.delete("/api/experiments/exp?data=delete").status_code == 204
    _error(answers[0], 409, "being_deleted", "being deleted with its data")
    assert op.get("/api/experiments/exp").status_code == 404

    def crash(db: Any, name: str) -> int:
        raise OSError("the leader stopped mid-purge")

    assert op.post("/api/experiments", json={"name": "exp"}).status_code == 201
    assert op.delete("/api/experiments/exp?data=keep").status_code == 204
    monkeypatch.setattr(experiment_data, "_purge_readings", crash)
    assert op.delete("/api/experiments/exp?data=delete").status_code == 500
    _error(op.post("/api/experiments/exp/restore"), 409, "being_deleted", "delete it again to finish")
    monkeypatch.setattr(experiment_data, "_purge_readings", purge_readings)
    assert op.delete("/api/experiments/exp?data=delete").status_code == 204
    db = connect(app.config["DATABASE"])
    try:
        assert db.execute("SELECT count(*) FROM experiments WHERE name = 'exp'").fetchone()[0] == 0
    finally:
        db.close()

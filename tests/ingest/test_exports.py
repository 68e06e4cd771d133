"""Exports: an operation writes a zip of CSV files to disk; the API serves it once it is finished."""

from __future__ import annotations

import csv
import io
import os
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from leader import exports
from leader.db import connect
from leader.ingest.parse import Router
from leader.ingest.writer import BatchWriter, Message
from tests.leader.conftest import api_client, make_app


@pytest.fixture
def app(tmp_path: Path, router: Router) -> Flask:
    app = make_app(tmp_path, HUEY_IMMEDIATE=True)  # the worker's task runs inside the POST
    t = 1_790_000_000.0
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t))
    msgs = [
        Message(
            "pioreactor/u1/e1/logs/app/info",
            (
                '{"message":"hello, \\"world\\"","level":"INFO","task":"stirring",'
                f'"timestamp":"{stamp}.000Z"}}'
            ).encode(),
            t,
        ),
        Message("pioreactor/u1/e1/stirring/$state", b"ready", t),
        Message("pioreactor/u1/e1/stirring/target_rpm", b"500", t),
        *(
            Message(
                "pioreactor/u1/e1/od_reading/od2",
                f'{{"od":{0.1 * i},"timestamp":"{stamp}.{i:03d}Z"}}'.encode(),
                t,
            )
            for i in range(5)
        ),
        Message("pioreactor/u2/e2/logs/app/info", b'{"message":"other experiment","level":"INFO"}', t),
    ]
    db = connect(app.config["DATABASE"])
    BatchWriter(lambda: db, router).write(db, msgs)
    db.close()
    return app


@pytest.fixture
def api(app: Flask) -> Iterator[FlaskClient]:
    yield api_client(app)


def test_export_zip_of_csv(api: FlaskClient) -> None:
    r = api.post(
        "/api/exports", json={"experiments": ["e1"], "datasets": ["logs", "job_states", "settings", "od"]}
    )
    assert r.status_code == 202 and r.headers["Location"].startswith("/api/operations/")
    op = r.get_json()["operation"]
    assert op["kind"] == "export" and op["status"] == "succeeded"
    got = api.get(f"/api/exports/{op['id']}")
    assert got.status_code == 200 and got.mimetype == "application/zip"
    zf = zipfile.ZipFile(io.BytesIO(got.data))
    assert sorted(zf.namelist()) == ["e1/job_states.csv", "e1/logs.csv", "e1/od.csv", "e1/settings.csv"]

    def table(name: str) -> list[list[str]]:
        return list(csv.reader(io.StringIO(zf.read(name).decode())))

    logs = table("e1/logs.csv")
    assert logs[0] == ["timestamp", "unit", "job", "source", "level", "message"]
    assert logs[1][1:] == ["u1", "stirring", "app", "info", 'hello, "world"']  # quoting survives
    assert [row[2] for row in table("e1/od.csv")[1:]] == ["0.0", "0.1", "0.2", "0.30000000000000004", "0.4"]
    assert table("e1/job_states.csv")[1][1:] == ["u1", "stirring", "", "ready"]
    assert table("e1/settings.csv")[1][:4] == ["u1", "stirring", "target_rpm", "500.0"]
    assert api.get(f"/api/operations/{op['id']}").get_json()["operation"]["status"] == "succeeded"


def test_export_defaults_to_every_dataset(api: FlaskClient) -> None:
    op = api.post("/api/exports", json={"experiments": ["e1", "e2"]}).get_json()["operation"]
    names = zipfile.ZipFile(io.BytesIO(api.get(f"/api/exports/{op['id']}").data)).namelist()
    assert {"e1/logs.csv", "e2/logs.csv", "e1/temperature.csv", "e2/od.csv"} <= set(names)


@pytest.mark.parametrize(
    "body", [{"experiments": []}, {"experiments": ["e1"], "datasets": ["secrets"]}, {"experiments": ["a/b"]}]
)
def test_export_bad_request(api: FlaskClient, body: dict) -> None:
    assert api.post("/api/exports", json=body).status_code == 400


def test_export_not_ready_is_409_and_unknown_is_404(tmp_path: Path) -> None:
    queued = make_app(tmp_path)  # no worker: the export stays queued, the POST answers at once
    api = api_client(queued)
    t = time.monotonic()
    op = api.post("/api/exports", json={"experiments": ["e1"]}).get_json()["operation"]
    assert time.monotonic() - t < 5 and op["status"] == "queued"
    assert api.get(f"/api/exports/{op['id']}").status_code == 409
    assert api.get("/api/exports/nope").status_code == 404


def test_old_exports_expire(api: FlaskClient, app: Flask) -> None:
    body = {"experiments": ["e1"], "datasets": ["logs"]}
    first = api.post("/api/exports", json=body).get_json()["operation"]
    path = exports.path_of(app, first["id"])
    crashed = path.with_name("crashed.zip.part")
    crashed.write_bytes(b"half")
    old = time.time() - 8 * 86400
    os.utime(path, (old, old))
    os.utime(crashed, (old, old))
    second = api.post("/api/exports", json=body).get_json()["operation"]
    assert second["status"] == "succeeded"
    assert not path.exists() and not crashed.exists()
    gone = api.get(f"/api/exports/{first['id']}")
    assert gone.status_code == 404 and "kept 7 days" in gone.get_json()["message"]
    assert api.get(f"/api/exports/{second['id']}").status_code == 200

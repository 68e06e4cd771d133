"""Exports: an operation writes a zip of CSV files to disk; the API serves it once it is finished."""

from __future__ import annotations

import csv
import io
import json
import os
import time
import zipfile
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
    assert sorted(zf.namelist()) == [
        "e1/job_states.csv",
        "e1/logs.csv",
        "e1/od.csv",
        "e1/settings.csv",
        "export.json",
    ]

    def table(name: str) -> list[list[str]]:
        return list(csv.reader(io.StringIO(zf.read(name).decode())))

    logs = table("e1/logs.csv")
    assert logs[0] == ["timestamp", "unit", "job", "source", "level", "message", "author"]
    assert logs[1][1:] == ["u1", "stirring", "app", "info", 'hello, "world"', ""]  # quoting survives
    assert logs[1][0] == "2026-09-21T14:13:20.000+00:00"  # the lab's zone (default UTC), with its offset
    assert [row[2] for row in table("e1/od.csv")[1:]] == ["0.0", "0.1", "0.2", "0.30000000000000004", "0.4"]
    assert table("e1/job_states.csv")[1][1:] == ["u1", "stirring", "", "ready"]
    assert table("e1/settings.csv")[1][:4] == ["u1", "stirring", "target_rpm", "500.0"]
    assert api.get(f"/api/operations/{op['id']}").get_json()["operation"]["status"] == "succeeded"


def test_export_defaults_to_every_dataset(api: FlaskClient) -> None:
    op = api.post("/api/exports", json={"experiments": ["e1", "e2"]}).get_json()["operation"]
    names = zipfile.ZipFile(io.BytesIO(api.get(f"/api/exports/{op['id']}").data)).namelist()
    assert {"e1/logs.csv", "e2/logs.csv", "e1/temperature.csv", "e2/od.csv"} <= set(names)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"experiments": []}, "$.experiments"),
        ({"experiments": ["e1"], "datasets": ["secrets"]}, "$.datasets"),
        ({"experiments": ["a/b"]}, "$.experiments[0]"),
        ({"experiments": "some"}, "$.experiments"),
        ({"experiments": ["e1"], "since": "2026-09-21T14:00:00"}, "$.since"),  # no offset: ambiguous
        ({"experiments": ["e1"], "until": "yesterday"}, "$.until"),
        ({"experiments": ["e1"], "since": "2026-09-21T15:00Z", "until": "2026-09-21T14:00Z"}, "$.since"),
        ({"experiments": ["e1"], "since": "2026-09-21T15:00Z", "last_hours": 2}, "$.last_hours"),
        ({"experiments": ["e1"], "last_hours": 0}, "$.last_hours"),
        ({"experiments": ["e1"], "last_hours": "2"}, "$.last_hours"),
        ({"experiments": ["e1"], "format": "xlsx"}, "$.format"),
        ({"experiments": ["e1"], "format": "parquet"}, "$.format"),  # not on a Pi: decided, documented
    ],
)
def test_export_bad_request(api: FlaskClient, body: dict, field: str) -> None:  # type: ignore[type-arg]
    r = api.post("/api/exports", json=body)
    assert r.status_code == 400 and field in r.get_json()["message"], r.get_json()
    assert api.get("/api/operations").get_json()["operations"] == []  # nothing queued


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


T0 = 1_790_000_000.0  # 2026-09-21T14:13:20Z


@pytest.fixture
def berlin(tmp_path: Path, router: Router) -> FlaskClient:
    """A lab in Europe/Berlin with OD readings and logs of `e1` an hour apart, and an experiment `e3`."""
    app = make_app(tmp_path, HUEY_IMMEDIATE=True, TIMEZONE="Europe/Berlin")
    msgs = []
    for h in range(5):
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(T0 + h * 3600))
        msgs.append(
            Message(
                "pioreactor/u1/e1/od_reading/od2", f'{{"od":{h},"timestamp":"{stamp}.000Z"}}'.encode(), T0
            )
        )
        msgs.append(
            Message(
                "pioreactor/u1/e1/logs/app/info",
                f'{{"message":"hour {h}","level":"INFO","timestamp":"{stamp}.000Z"}}'.encode(),
                T0,
            )
        )
    db = connect(app.config["DATABASE"])
    BatchWriter(lambda: db, router).write(db, msgs)
    db.close()
    client = api_client(app)
    for name in ("e1", "e3"):
        assert client.post("/api/experiments", json={"name": name}).status_code == 201
    return client


def _zip(api: FlaskClient, body: dict) -> zipfile.ZipFile:  # type: ignore[type-arg]
    r = api.post("/api/exports", json=body)
    assert r.status_code == 202, r.get_json()
    op = r.get_json()["operation"]
    assert op["status"] == "succeeded", op
    return zipfile.ZipFile(io.BytesIO(api.get(f"/api/exports/{op['id']}").data))


def _table(zf: zipfile.ZipFile, name: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(zf.read(name).decode())))[1:]


def test_export_range_all_experiments_and_the_labs_zone(berlin: FlaskClient) -> None:
    api = berlin
    assert api.get("/api/health").get_json()["timezone"] == "Europe/Berlin"
    # hours 1 and 2 (since inclusive, until exclusive), given in two different offsets
    body = {
        "experiments": "all",
        "datasets": ["od", "logs"],
        "since": "2026-09-21T17:13:20+02:00",
        "until": "2026-09-21T17:13:20+00:00",
    }
    zf = _zip(api, body)
    assert sorted(zf.namelist()) == ["e1/logs.csv", "e1/od.csv", "e3/logs.csv", "e3/od.csv", "export.json"]
    od = _table(zf, "e1/od.csv")
    assert [(r[0], r[2]) for r in od] == [("u1", "1.0"), ("u1", "2.0")]
    assert [r[1] for r in od] == ["2026-09-21T17:13:20.000+02:00", "2026-09-21T18:13:20.000+02:00"]  # CEST
    assert [r[5] for r in _table(zf, "e1/logs.csv")] == ["hour 1", "hour 2"]
    assert _table(zf, "e3/od.csv") == []
    manifest = json.loads(zf.read("export.json"))
    assert manifest["timezone"] == "Europe/Berlin" and manifest["experiments"] == ["e1", "e3"]
    assert manifest["since"] == "2026-09-21T15:13:20.000+00:00" and manifest["until"].startswith(
        "2026-09-21T17:13"
    )

    # the last N hours: up to now, so none of these old readings, all of the fresh ones
    zf = _zip(api, {"experiments": ["e1"], "datasets": ["od"], "last_hours": 1})
    assert _table(zf, "e1/od.csv") == []
    zf = _zip(api, {"experiments": ["e1"], "datasets": ["od"], "last_hours": (time.time() - T0) / 3600 + 1})
    assert len(_table(zf, "e1/od.csv")) == 5


def test_unknown_timezone_stops_the_leader(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match=r"Unknown TIMEZONE 'Mars/Olympus'.*IANA"):
        make_app(tmp_path, TIMEZONE="Mars/Olympus")
    with pytest.raises(RuntimeError, match="Unknown TIMEZONE"):
        make_app(tmp_path, TIMEZONE="../../etc/passwd")
    assert make_app(tmp_path).config["TIMEZONE"] == "UTC"

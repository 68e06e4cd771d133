"""Fleet routes without agents: roles, PLUGINS_ENABLED, input validation (nothing queued on bad input),
and the unit answer's fleet fields from ingested heartbeats (retained vs live, stale worker)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from cluster_schema.codec import encode
from cluster_schema.fleet import AgentStatus, UnitVersions
from leader.db import connect
from leader.ingest import descriptors
from leader.ingest.writer import BatchWriter, Message
from tests.leader.conftest import api_client, make_app

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def app(tmp_path: Path) -> Flask:
    return make_app(tmp_path, PLUGINS_ENABLED=True, PLUGINS_ALLOWED=[])


def _operations(client: FlaskClient) -> int:
    return len(client.get("/api/operations?limit=200").get_json()["operations"])


def test_plugins_are_refused_while_the_leader_switch_is_off(tmp_path: Path) -> None:
    admin = api_client(make_app(tmp_path), "admin")
    r = admin.post("/api/plugins/install", json={"name": "pioreactor-x"})
    assert r.status_code == 403 and "PLUGINS_ENABLED" in r.get_json()["message"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "x; rm -rf /"}, "$.name"),
        ({"name": "../x"}, "$.name"),
        ({"name": "-x"}, "$.name"),
        ({"name": "https://example.com/p.whl"}, "$.name"),
        ({"name": "p", "version": "--index-url"}, "$.version"),
        ({"name": "p", "version": "1.0 ; rm -rf /"}, "$.version"),
        ({"name": "p", "version": "https://example.com/p.whl"}, "$.version"),
        ({"name": "p", "version": " 1.0"}, "$.version"),
        ({"name": "p", "units": ["nope"]}, "$.units[0]"),
        ({"name": "p", "units": ["bad name"]}, "$.units[0]"),
        ({"name": 3}, "$.name"),
    ],
)
def test_bad_plugin_requests_name_the_field_and_queue_nothing(app: Flask, body: dict, field: str) -> None:  # type: ignore[type-arg]
    admin = api_client(app, "admin")
    assert admin.post("/api/units", json={"name": "u1", "address": "127.0.0.1"}).status_code == 201
    for path in ("/api/plugins/install", "/api/plugins/uninstall"):
        if path.endswith("uninstall") and "version" in body:
            continue  # (an uninstall's version is ignored, but still validated on install only)
        r = admin.post(path, json=body)
        assert r.status_code == 400 and field in r.get_json()["message"], r.get_json()
    assert _operations(admin) == 0


def test_allow_list_and_roles(tmp_path: Path) -> None:
    app = make_app(tmp_path, PLUGINS_ENABLED=True, PLUGINS_ALLOWED=["pioreactor-good"])
    admin, operator, viewer = (api_client(app, r) for r in ("admin", "operator", "viewer"))
    assert admin.post("/api/units", json={"name": "u1", "address": "127.0.0.1", "port": 1}).status_code == 201
    r = admin.post("/api/plugins/install", json={"name": "pioreactor-other"})
    assert r.status_code == 403 and "allow-list" in r.get_json()["message"]
    r = admin.post("/api/plugins/install", json={"name": "Pioreactor_Good", "version": "1.2.3"})
    assert r.status_code == 202 and r.get_json()["operation"]["params"] == {
        "name": "Pioreactor_Good",
        "version": "1.2.3",
    }
    # plugins and clocks: admin; identify and calibrations: operator; reads: viewer
    for client, method, path in (
        (operator, "POST", "/api/plugins/install"),
        (operator, "POST", "/api/units/u1/system/clock"),
        (viewer, "POST", "/api/units/u1/identify"),
        (viewer, "PATCH", "/api/units/u1/active_calibrations/od/c1"),
    ):
        r = client.open(path, method=method, json={"name": "pioreactor-good"})
        assert r.status_code == 403 and "role" in r.get_json()["message"], (path, r.get_json())
    assert operator.post("/api/units/u1/identify").status_code == 202
    assert operator.patch("/api/units/u1/active_calibrations/od/c1").status_code == 202
    assert admin.post("/api/units/$all/system/clock").get_json()["operation"]["kind"] == "system.clock"
    assert operator.post("/api/units/nope/identify").status_code == 404
    assert viewer.get("/api/plugins").status_code == 200  # (the unit is unreachable: listed under errors)


def test_calibration_names_with_slash_or_dots_are_refused(app: Flask) -> None:
    operator = api_client(app, "operator")
    api_client(app, "admin").post("/api/units", json={"name": "u1", "address": "127.0.0.1"})
    for device, name, field in (
        ("od", "a/b", "name"),
        ("od", "..", "name"),
        ("od", "x..y", "name"),
        ("..od", "c1", "device"),
    ):
        r = operator.patch(f"/api/units/u1/active_calibrations/{device}/{name}")
        assert r.status_code == 400 and field in r.get_json()["message"], (device, name, r.get_json())
        r = operator.get(f"/api/units/u1/calibrations/{device}/{name}")
        assert r.status_code == 400
    r = operator.patch("/api/units/$all/active_calibrations/od/c1", json={"units": ["nope"]})
    assert r.status_code == 400 and "$.units[0]" in r.get_json()["message"]
    assert _operations(operator) == 0


def _status(unit: str, utc: float, interval: float = 30.0) -> bytes:
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(utc)) + f".{int(utc * 1000) % 1000:03d}Z"
    return encode(
        AgentStatus(
            unit=unit,
            versions=UnitVersions(agent="1.0", pio="26.11.1", python="3.12.1", schema=2),
            utc=stamp,
            disk_free_bytes=10,
            disk_total_bytes=100,
            memory_free_bytes=5,
            memory_total_bytes=50,
            running_jobs=2,
            interval=interval,
        )
    )


def test_units_answer_versions_health_and_clock_offset_from_heartbeats(app: Flask) -> None:
    admin = api_client(app, "admin")
    for name in ("u1", "u2", "u3"):
        admin.post("/api/units", json={"name": name, "address": "127.0.0.1"})
    now = time.time()
    db = connect(app.config["DATABASE"])
    try:
        writer = BatchWriter(lambda: db, descriptors.router(str(REPO / "contrib")))
        writer.write(
            db,
            [
                # u1: retained (old news): versions, but no clock and no sign of a live worker
                Message("pioreactor/u1/$agent/status", _status("u1", now - 100), now, retained=True),
                # u2: live, its clock 3 s ahead of ours
                Message("pioreactor/u2/$agent/status", _status("u2", now + 3.0), now),
                # u3: live but long ago (four intervals of 30 s)
                Message("pioreactor/u3/$agent/status", _status("u3", now - 120), now - 120),
                Message("pioreactor/u3/$agent/status", b"{not json", now),
            ],
        )
        assert writer.stats.malformed == 1
    finally:
        db.close()
    units = {u["name"]: u for u in admin.get("/api/units").get_json()}
    assert units["u1"]["versions"] == {"agent": "1.0", "pio": "26.11.1", "python": "3.12.1", "schema": 2}
    assert units["u1"]["versions_checked_at"] is not None
    assert units["u1"]["health"]["clock_offset_s"] is None and units["u1"]["health"]["worker_alive"] is None
    h2 = units["u2"]["health"]
    assert h2["clock_offset_s"] == pytest.approx(3.0, abs=0.01) and h2["worker_alive"] is True
    assert h2["disk_free_bytes"] == 10 and h2["running_jobs"] == 2 and h2["heartbeat_at"]
    h3 = units["u3"]["health"]
    assert h3["worker_alive"] is False and h3["clock_offset_s"] == pytest.approx(0.0, abs=0.01)

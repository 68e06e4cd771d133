"""What the experiment charts mark: GET /api/experiments/<exp>/chart_markers from real ingest traffic
(job states and `dosing_events` through the ingest's own writer) and profile-requested operations."""

from __future__ import annotations

import json

from flask.testing import FlaskClient

from leader.db import changes, connect
from leader.db import operations as ops_db
from leader.ingest.writer import Message
from tests.leader.conftest import ingest_in_order

T = 1_790_000_000.0
ISO = "2026-09-21T14:13:20.000Z"  # T as Pioreactor writes it


def _dose(event: str, volume: float, iso: str = ISO) -> bytes:
    doc = {"volume_change": volume, "event": event, "source_of_event": "dosing_automation:chemostat"}
    return json.dumps({**doc, "timestamp": iso}).encode()


def test_markers_from_job_states_dosing_and_profiles(api: FlaskClient) -> None:
    assert api.post("/api/experiments", json={"name": "e1"}).status_code == 201
    p = "pioreactor/pio0/e1"
    writer = ingest_in_order(
        api,
        [
            Message(f"{p}/od_reading/$state", b"init", T),
            Message(f"{p}/od_reading/$state", b"ready", T + 1),  # same start: no second marker
            Message(f"{p}/od_reading/$state", b"sleeping", T + 2),  # a pause is not marked
            Message(f"{p}/od_reading/$state", b"ready", T + 3),
            Message(f"{p}/dosing_events", _dose("add_media", 0.5), T + 4),
            Message(f"{p}/dosing_events", _dose("add_media", 0.5), T + 5),  # a redelivery: stored once
            Message(f"{p}/dosing_events", b'{"event": "add_media"}', T + 6),  # malformed: counted
            Message(f"{p}/od_reading/$state", b"disconnected", T + 7),
            Message("pioreactor/pio0/other/dosing_events", _dose("remove_waste", 1.0), T + 8),
        ],
    )
    assert writer.stats.malformed == 1
    db = connect(api.application.config["DATABASE"])
    try:
        op = ops_db.create(
            db, "job.start", {"experiment": "e1", "job": "stirring"}, ["pio0"], "schedule", "profile:ab12"
        )
        ops_db.create(db, "job.start", {"experiment": "e1", "job": "stirring"}, ["pio0"], "api", "user:x")
        seen = [e for e in changes.events(db, "e1", 0)[0] if e.name == "dosing"]
    finally:
        db.close()
    assert [e.data["event"] for e in seen] == ["add_media"]

    answer = api.get(f"/api/experiments/e1/chart_markers?since={T - 10}&until={T + 1e9}").get_json()
    got = [(m["kind"], m["unit"], m["text"]) for m in answer["markers"]]
    assert got == [
        ("job_start", "pio0", "od_reading started"),
        ("dosing", "pio0", "add media 0.5 mL"),
        ("job_stop", "pio0", "od_reading stopped"),
        ("profile", "pio0", "profile: job.start"),
    ]
    assert answer["markers"][1]["t"] == T and answer["truncated"] is False
    assert answer["markers"][3]["t"] > T  # the operation's own creation time
    assert op.id

    narrow = api.get(f"/api/experiments/e1/chart_markers?since={T + 3}&until={T + 100}").get_json()
    assert [m["kind"] for m in narrow["markers"]] == ["job_stop"]


def test_bad_input(api: FlaskClient) -> None:
    assert api.post("/api/experiments", json={"name": "e2"}).status_code == 201
    assert api.get("/api/experiments/nope/chart_markers").status_code == 404
    bad = api.get("/api/experiments/e2/chart_markers?since=yesterday")
    assert bad.status_code == 400 and "since" in bad.get_json()["message"]
    assert api.get(f"/api/experiments/e2/chart_markers?since={T}&until={T - 1}").status_code == 400
    assert api.get("/api/experiments/e2/chart_markers").get_json() == {"markers": [], "truncated": False}

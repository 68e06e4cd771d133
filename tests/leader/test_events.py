"""GET /api/experiments/<exp>/events: the experiment's live updates from the store (Flask test client,
stand-in agents, MQTT messages written by the ingest's own writer)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

from flask.testing import FlaskClient

from leader import setup
from leader.db import changes, connect
from leader.ingest.writer import Message
from tests.leader.conftest import ingest_in_order
from tests.leader.standin import StandIn
from tests.leader.test_api import (
    _sse,
    cluster,  # noqa: F401  (the fixture: three stand-ins, experiment `exp`)
)

Cluster = tuple[FlaskClient, list[StandIn]]
T = 1_790_000_000.0


def _unit_messages(exp: str, unit: str = "pio0") -> list[Message]:
    p = f"pioreactor/{unit}/{exp}"
    return [
        Message(f"{p}/stirring/$state", b"ready", T),
        Message(f"{p}/stirring/target_rpm", b"500", T),
        Message(f"{p}/stirring/target_rpm", b"500", T + 1),  # the same value again: no change
        Message(f"{p}/od_reading/od2", b'{"od": 0.25, "timestamp": "2026-09-21T14:13:20.000Z"}', T),
        Message(f"{p}/logs/app/info", b'{"message": "hi", "level": "INFO", "task": "stirring"}', T),
        Message(f"{p}/stirring/$state", b"sleeping", T + 2),
        Message(f"{p}/stirring/target_rpm", b"", T + 3),  # cleared
    ]


def _short(api: FlaskClient) -> None:
    api.application.config.update(SSE_MAX_SECONDS=0.3, SSE_POLL=0.02)


def _events(api: FlaskClient, exp: str = "exp", **headers: str) -> list[dict[str, Any]]:
    r = api.get(f"/api/experiments/{exp}/events", headers=headers)
    assert r.status_code == 200 and r.mimetype == "text/event-stream", r.data
    assert r.headers["Cache-Control"] == "no-cache"
    return [
        {"id": int(e["id"]), "event": e["event"], "data": json.loads(e["data"])} if "id" in e else e
        for e in _sse(r.get_data(as_text=True))
    ]


def test_every_kind_in_order_with_ids_and_resume(cluster: Cluster) -> None:  # noqa: F811
    api, _ = cluster
    _short(api)
    ingest_in_order(api, _unit_messages("exp") + _unit_messages("other"))
    op = api.post("/api/experiments/exp/jobs/stirring/start", json={"units": ["pio1"]}).json["operation"]
    api.post("/api/experiments/exp/logs", json={"message": "a note"})

    events = _events(api, **{"Last-Event-ID": "0"})
    assert events[0] == {"retry": "2000"}
    events = events[1:]
    ids = [e["id"] for e in events]
    assert ids == sorted(set(ids))  # every event has an id, increasing, none twice
    kinds = [
        (e["event"], e["data"].get("state") or e["data"].get("name") or e["data"].get("message"))
        for e in events
    ]
    assert kinds[:6] == [
        ("job_state", "ready"),
        ("setting", "target_rpm"),
        ("reading", None),
        ("log", "hi"),
        ("job_state", "sleeping"),
        ("setting", "target_rpm"),
    ]
    assert events[0]["data"] == {"unit": "pio0", "job": "stirring", "state": "ready"}
    assert events[1]["data"] == {"unit": "pio0", "job": "stirring", "name": "target_rpm", "value": 500.0}
    assert events[2]["data"] == {"series": "od", "unit": "pio0", "t": T, "value": 0.25}
    assert events[3]["data"]["experiment"] == "exp" and events[3]["data"]["source"] == "app"
    assert events[5]["data"]["value"] is None  # cleared
    # the operation once, as it is now (its changes in one poll are one event), then the note
    assert [e["event"] for e in events[6:]] == ["operation", "log"]
    assert events[6]["data"]["id"] == op["id"] and events[6]["data"]["status"] == "succeeded"
    assert events[7]["data"]["source"] == "user" and events[7]["data"]["message"] == "a note"

    # resuming after any event gives exactly the rest: nothing lost, nothing twice
    for k in (0, 3, 6, len(events) - 1):
        assert _events(api, **{"Last-Event-ID": str(ids[k])})[1:] == events[k + 1 :]
    assert _events(api, **{"Last-Event-ID": "0"})[1:] == events
    assert api.post("/api/experiments", json={"name": "other"}).status_code == 201
    other = _events(api, "other", **{"Last-Event-ID": "0"})[1:]
    assert len(other) == 6 and {e["id"] for e in other}.isdisjoint(ids)  # each experiment its own


def test_live_stream_starts_now_and_follows(cluster: Cluster) -> None:  # noqa: F811
    api, _ = cluster
    api.application.config.update(SSE_MAX_SECONDS=10, SSE_POLL=0.02)
    ingest_in_order(api, _unit_messages("exp", "pio2"))  # before the stream: not sent
    r = api.get("/api/experiments/exp/events", buffered=False)
    chunks: Iterator[bytes] = iter(r.response)
    assert next(chunks) == b"retry: 2000\n\n"
    ingest_in_order(api, [Message("pioreactor/pio1/exp/stirring/$state", b"ready", T)])
    op = api.post("/api/experiments/exp/jobs/stirring/pause", json={"units": ["pio1"]}).json["operation"]
    got: list[dict[str, Any]] = []
    deadline = time.monotonic() + 10
    while len(got) < 2 and time.monotonic() < deadline:
        got += _sse(next(chunks).decode())
    r.close()
    assert [e["event"] for e in got] == ["job_state", "operation"]
    assert json.loads(got[0]["data"]) == {"unit": "pio1", "job": "stirring", "state": "ready"}
    assert json.loads(got[1]["data"])["id"] == op["id"]


def test_heartbeat_and_lifetime(cluster: Cluster) -> None:  # noqa: F811
    api, _ = cluster
    api.application.config.update(SSE_MAX_SECONDS=0.3, SSE_POLL=0.02, SSE_KEEPALIVE=0.05)
    text = api.get("/api/experiments/exp/events").get_data(as_text=True)  # ends by itself
    assert ": keep-alive" in text and "event:" not in text


def test_pruned_history_says_reset(cluster: Cluster) -> None:  # noqa: F811
    api, _ = cluster
    _short(api)
    ingest_in_order(api, _unit_messages("exp"))
    db = connect(api.application.config["DATABASE"])
    try:
        assert changes.prune(db, keep=2) > 0
        kept = changes.oldest(db)
    finally:
        db.close()
    events = _events(api, **{"Last-Event-ID": "1"})
    assert events[1]["event"] == "reset" and "id" not in events[1]
    assert [e["id"] for e in events[2:]] == [kept, kept + 1]


def test_bad_requests(cluster: Cluster) -> None:  # noqa: F811
    api, _ = cluster
    for bad in ("abc", "-1", "1.5"):
        r = api.get("/api/experiments/exp/events", headers={"Last-Event-ID": bad})
        assert r.status_code == 400 and "Last-Event-ID" in r.json["message"]
    assert api.get("/api/experiments/exp/events?after=x").status_code == 400
    r = api.get("/api/experiments/nope/events")
    assert r.status_code == 404 and "nope" in r.json["message"]
    assert api.get("/api/experiments/a+b/events").status_code == 400
    assert api.application.test_client().get("/api/experiments/exp/events").status_code == 401


def test_the_workspace_page_listens_from_the_change_it_shows(cluster: Cluster) -> None:  # noqa: F811
    """What happens between the page's render and its stream's connection is sent, not lost."""
    api, _ = cluster
    _short(api)
    db = connect(api.application.config["DATABASE"])
    try:
        setup.complete(db, "test")
    finally:
        db.close()
    ingest_in_order(
        api, [Message("pioreactor/pio1/exp/stirring/$state", b"init", T)]
    )  # shown by the page itself
    html = api.get("/experiments/exp").get_data(as_text=True)
    url = html.split('data-events="')[1].split('"')[0].replace("&amp;", "&")
    assert "?after=" in url
    ingest_in_order(
        api, [Message("pioreactor/pio1/exp/stirring/$state", b"ready", T + 1)]
    )  # before it connects
    r = api.get(url)
    events = [e for e in _sse(r.get_data(as_text=True)) if "event" in e]
    assert [(e["event"], json.loads(e["data"])["state"]) for e in events] == [("job_state", "ready")]


def test_the_cluster_stream_says_each_experiment_created_archived_restored_or_deleted(
    cluster: Cluster,  # noqa: F811
) -> None:
    api, _ = cluster
    _short(api)
    db = connect(api.application.config["DATABASE"])
    try:
        before = changes.latest(db)
    finally:
        db.close()
    assert api.post("/api/experiments", json={"name": "kept"}).status_code == 201
    assert api.delete("/api/experiments/kept?data=keep").status_code == 204
    assert api.post("/api/experiments/kept/restore").status_code == 200
    assert api.post("/api/experiments", json={"name": "gone"}).status_code == 201
    assert api.delete("/api/experiments/gone?data=delete&wait=10").status_code in (202, 204)
    r = api.get("/api/events", headers={"Last-Event-ID": str(before)})
    assert r.status_code == 200 and r.mimetype == "text/event-stream"
    events = [e for e in _sse(r.get_data(as_text=True)) if "event" in e]
    assert [e["event"] for e in events] == ["experiment"] * 6
    assert [(json.loads(e["data"])["name"], json.loads(e["data"])["change"]) for e in events] == [
        ("kept", "created"),
        ("kept", "archived"),
        ("kept", "restored"),
        ("gone", "created"),
        ("gone", "archived"),  # a purge takes it off the list first
        ("gone", "deleted"),
    ]
    ids = [int(e["id"]) for e in events]
    assert ids == sorted(set(ids)) and ids[0] > before
    resumed = api.get("/api/events", headers={"Last-Event-ID": str(ids[2])}).get_data(as_text=True)
    assert [json.loads(e["data"])["name"] for e in _sse(resumed) if "event" in e] == ["gone"] * 3
    # an experiment's own stream is its own: none of these there
    assert "experiment" not in [e.get("event") for e in _events(api, "kept", **{"Last-Event-ID": "0"})]
    assert api.get("/api/events", headers={"Last-Event-ID": "x"}).status_code == 400
    assert api.application.test_client().get("/api/events").status_code == 401

"""The read APIs over ingested data: /api/logs (keyset pages), time series, running jobs, unit presence."""

from __future__ import annotations

import time

import pytest
from flask import Flask
from flask.testing import FlaskClient

from leader.db import connect
from leader.ingest.parse import Router
from leader.ingest.writer import BatchWriter, Message

LEVELS = ("debug", "info", "warning", "error")


def ingest(app: Flask, router: Router, messages: list[Message]) -> None:
    db = connect(app.config["DATABASE"])
    try:
        BatchWriter(lambda: db, router).write(db, messages)
    finally:
        db.close()


def iso(t: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + f".{int(t * 1000) % 1000:03d}Z"


def log(unit: str, exp: str, level: str, text: str, t: float, job: str = "stirring") -> Message:
    body = (
        f'{{"source":"app","task":"{job}","message":"{text}","level":"{level.upper()}",'
        f'"timestamp":"{iso(t)}"}}'
    )
    return Message(f"pioreactor/{unit}/{exp}/logs/app/{level}", body.encode(), t)


def test_logs_pages_newest_first_with_filters(app: Flask, api: FlaskClient, router: Router) -> None:
    t0 = 1_790_000_000.0
    msgs = [
        log(f"u{i % 3}", "e1" if i % 4 else "e2", LEVELS[i % 4], f"n{i}", t0 + i // 2) for i in range(250)
    ]
    ingest(app, router, msgs)
    seen, cursor = [], None
    while True:
        r = api.get("/api/logs", query_string={"limit": 40, **({"before": cursor} if cursor else {})})
        assert r.status_code == 200
        page = r.get_json()
        seen += page["logs"]
        cursor = page["next"]
        if cursor is None:
            break
    assert len(seen) == 250 and len({e["message"] for e in seen}) == 250  # no row twice, none skipped
    stamps = [e["timestamp"] for e in seen]
    assert stamps == sorted(stamps, reverse=True)
    assert set(seen[0]) == {"timestamp", "unit", "experiment", "job", "source", "level", "message", "author"}
    assert seen[0]["author"] is None  # a unit's log; only manual notes have an author

    r = api.get("/api/logs?experiment=e1&unit=u1&min_level=warning&limit=1000").get_json()
    expected = {f"n{i}" for i in range(250) if i % 4 in (2, 3) and i % 3 == 1}
    assert {e["message"] for e in r["logs"]} == expected and r["next"] is None
    assert {e["level"] for e in r["logs"]} <= {"warning", "error"}
    empty = {"logs": [], "next": None, "newest": None, "indexing": None}
    assert api.get("/api/logs?job=nothing").get_json() == empty


@pytest.mark.parametrize(
    "query", ["before=!!notacursor", "min_level=loud", "limit=0", "limit=5000", "unit=" + "x" * 300]
)
def test_logs_bad_query_is_400(api: FlaskClient, query: str) -> None:
    r = api.get(f"/api/logs?{query}")
    assert r.status_code == 400 and set(r.get_json()) == {"error", "message"}


def test_logs_need_credentials(app: Flask) -> None:
    assert app.test_client().get("/api/logs").status_code == 401


def reading(unit: str, t: float, od: float) -> Message:
    body = f'{{"calibrated":0,"timestamp":"{iso(t)}","od":{od},"channel":"2"}}'
    return Message(f"pioreactor/{unit}/e1/od_reading/od2", body.encode(), t)


def test_time_series_buckets(app: Flask, api: FlaskClient, router: Router) -> None:
    t0 = 1_790_000_000.0
    ingest(app, router, [reading(u, t0 + 5 * i, 0.1 + i / 1000) for u in ("u1", "u2") for i in range(720)])
    url = "/api/experiments/e1/time_series/od"
    r = api.get(url, query_string={"since": t0, "until": t0 + 3600, "points": 60})
    assert r.status_code == 200
    ts = r.get_json()
    assert ts["series"] == "od" and ts["columns"] == ["t", "avg", "min", "max"]
    assert set(ts["units"]) == {"u1", "u2"}
    rows = ts["units"]["u1"]
    assert len(rows) == 60
    for t, avg, lo, hi in rows:
        assert lo <= avg <= hi and t0 <= t < t0 + 3600
    assert rows[0][2] == pytest.approx(0.1) and rows[-1][3] == pytest.approx(0.1 + 719 / 1000)
    # few readings come back as they are; one unit only; ISO times work too
    r = api.get(url, query_string={"units": "u2", "since": iso(t0), "until": iso(t0 + 50), "points": 1000})
    assert list(r.get_json()["units"]) == ["u2"]
    assert [row[0] for row in r.get_json()["units"]["u2"]] == [t0 + 5 * i for i in range(11)]


def test_long_ranges_use_minute_rollups_counted_once(app: Flask, api: FlaskClient, router: Router) -> None:
    t0 = 1_790_000_040.0  # a minute boundary
    msgs = [reading("u1", t0 + 5 * i, float(i % 12)) for i in range(720)]  # each minute: 0..11
    ingest(app, router, msgs)
    ingest(app, router, msgs[:300])  # redelivered: neither stored nor counted twice
    q = {"since": t0, "until": t0 + 3600, "points": 10}  # 6-minute buckets: from the rollups
    rows = api.get("/api/experiments/e1/time_series/od", query_string=q).get_json()["units"]["u1"]
    assert len(rows) == 10
    for i, (t, avg, lo, hi) in enumerate(rows):
        assert (t, avg, lo, hi) == (pytest.approx(t0 + 360 * i), pytest.approx(5.5), 0.0, 11.0)


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/api/experiments/e1/time_series/nonsense", 404),
        ("/api/experiments/e1/time_series/od?since=yesterday", 400),
        ("/api/experiments/e1/time_series/od?since=10&until=5", 400),
        ("/api/experiments/e1/time_series/od?points=0", 400),
    ],
)
def test_time_series_errors(api: FlaskClient, path: str, status: int) -> None:
    assert api.get(path).status_code == status


def test_running_jobs_and_presence_from_the_store(app: Flask, api: FlaskClient, router: Router) -> None:
    for name in ("u1", "u2"):
        assert api.post("/api/units", json={"name": name, "address": "127.0.0.1"}).status_code == 201
    assert api.post("/api/experiments", json={"name": "e1"}).status_code == 201
    assert api.put("/api/experiments/e1/units", json={"units": ["u1", "u2"]}).status_code in (200, 204)
    t = time.time()
    ingest(
        app,
        router,
        [
            Message("pioreactor/u1/$agent/presence", b"online", t, retained=True),
            Message("pioreactor/u1/e1/stirring/$state", b"ready", t),
            Message("pioreactor/u1/e1/stirring/target_rpm", b"400.0", t),
            Message("pioreactor/u2/e1/stirring/$state", b"lost", t),
            Message("pioreactor/u2/$agent/presence", b"offline", t),
        ],
    )
    running = api.get("/api/experiments/e1/jobs/running").get_json()
    assert running == [
        {
            "unit": "u1",
            "job_name": "stirring",
            "experiment": "e1",
            "state": "ready",
            "settings": {"target_rpm": 400.0},
        }
    ]
    units = {u["name"]: u for u in api.get("/api/units").get_json()}
    assert units["u1"]["presence"] == "online"
    assert units["u2"]["presence"] == "offline" and units["u2"]["last_seen"] is not None

"""End to end: real pio 26.11.1 (testing mode) and pio-sim units publish; the leader's ingest stores it;
the API serves their logs, running jobs and OD / temperature time series."""

from __future__ import annotations

import itertools
import shutil
import signal
from collections.abc import Iterator
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from flask import Flask
from flask.testing import FlaskClient
from paho.mqtt.enums import CallbackAPIVersion

from devcluster.broker import Broker
from devcluster.procs import Proc, wait_for
from devcluster.units import make_real_unit, make_sim_unit, real_pio_unavailable_reason, unit_paths
from leader import ingest
from leader.db import connect, job_states
from leader.db import tokens as tokens_db
from tests.leader.conftest import make_app

EXP = "ingest-e2e"
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def leader(tmp_path: Path, fresh_broker: Broker) -> Iterator[tuple[Flask, FlaskClient]]:
    app = make_app(tmp_path / "leader", MQTT_URL=fresh_broker.url, INGEST_CLIENT_ID=f"ingest-{tmp_path.name}")
    running = ingest.start(app)
    db = connect(app.config["DATABASE"])
    token = tokens_db.create(db, "tests").token
    db.close()
    client = app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    try:
        wait_for(running.client.subscribed.is_set, 10, what="ingest subscribed")
        yield app, client
    finally:
        running.stop()


@pytest.mark.parametrize("impl", ["real", "sim"])
def test_units_publishing_land_in_the_api(
    impl: str, tmp_path: Path, fresh_broker: Broker, leader: tuple[Flask, FlaskClient]
) -> None:
    if impl == "real" and (reason := real_pio_unavailable_reason()):
        pytest.skip(reason)
    app, api = leader
    unit = f"{impl}unit1"
    assert api.post("/api/units", json={"name": unit, "address": "127.0.0.1"}).status_code == 201
    assert api.post("/api/experiments", json={"name": EXP}).status_code == 201
    assert api.put(f"/api/experiments/{EXP}/units", json={"units": [unit]}).status_code in (200, 204)
    if impl == "real":
        pio = make_real_unit(tmp_path / unit, unit, fresh_broker.host, fresh_broker.port, experiment=EXP)
    else:
        pio = make_sim_unit(
            tmp_path / unit, unit, fresh_broker.host, fresh_broker.port, experiment=EXP, speed=20
        )
    jobs = [
        ["stirring"],
        ["od_reading"],
        ["temperature_automation", "--automation-name", "thermostat", "--target-temperature", "30"],
    ]
    if impl == "sim":  # real pio needs minutes of OD statistics first; the simulator is sped up
        jobs.append(["growth_rate_calculating"])
        config = unit_paths(tmp_path / unit).config  # fewer OD samples before the first growth rate
        config.write_text(
            config.read_text().replace("samples_for_od_statistics = 35", "samples_for_od_statistics = 5")
        )
    procs = [Proc([str(pio), "run", *job], tmp_path / f"{job[0]}.log") for job in jobs]
    try:

        def running() -> set[str]:
            found = api.get(f"/api/experiments/{EXP}/jobs/running").get_json()
            return {j["job_name"] for j in found if j["unit"] == unit and j["state"] == "ready"}

        wait_for(
            lambda: running() >= {"stirring", "od_reading", "temperature_automation"},
            60,
            0.2,
            what="three jobs ready",
        )
        stirring = next(
            j
            for j in api.get(f"/api/experiments/{EXP}/jobs/running").get_json()
            if j["job_name"] == "stirring"
        )
        assert stirring["settings"]["target_rpm"] == pytest.approx(500.0)

        def series(key: str) -> list[list[float]]:
            body = api.get(f"/api/experiments/{EXP}/time_series/{key}").get_json()
            return body["units"].get(unit, [])

        od = wait_for(lambda: series("od"), 30, 0.2, what="an OD reading")
        assert 0 < od[0][1] < 10
        temp = wait_for(lambda: series("temperature"), 30, 0.2, what="a temperature reading")
        assert 0 < temp[0][1] < 100

        if impl == "sim":
            assert wait_for(lambda: series("normalized_od"), 60, 0.2, what="a normalized OD")[0][1] > 0
            wait_for(lambda: series("growth_rate"), 60, 0.2, what="a growth rate")

        logs = wait_for(
            lambda: api.get("/api/logs", query_string={"unit": unit, "job": "stirring"}).get_json()["logs"],
            10,
            what="stirring logs",
        )
        assert all(e["experiment"] == EXP and e["unit"] == unit for e in logs)

        procs[0].kill(signal.SIGTERM)  # stirring ends cleanly: disconnected, no longer running
        procs[1].kill(signal.SIGKILL)  # od_reading dies: its last will says lost
        wait_for(lambda: not running() & {"stirring", "od_reading"}, 30, 0.2, what="both no longer running")
        db = connect(app.config["DATABASE"])
        try:
            states = {j.job: j.state for j in job_states.states(db, EXP) if j.unit == unit}
        finally:
            db.close()
        assert states["stirring"] == "disconnected" and states["od_reading"] == "lost"
        # a job's `lost` is not the unit's presence (no agent runs here: never heard of)
        assert next(u for u in api.get("/api/units").get_json() if u["name"] == unit)["presence"] == "unknown"
    finally:
        for proc in procs:
            proc.stop()


def test_a_new_chart_descriptor_is_ingested_without_a_restart(tmp_path: Path, fresh_broker: Broker) -> None:
    contrib = tmp_path / "contrib"
    shutil.copytree(REPO / "contrib", contrib)
    app = make_app(
        tmp_path / "leader",
        MQTT_URL=fresh_broker.url,
        CONTRIB_DIR=str(contrib),
        INGEST_CLIENT_ID=f"ingest-{tmp_path.name}",
        INGEST_DESCRIPTOR_REFRESH=0.1,
    )
    running = ingest.start(app)
    pub = mqtt.Client(CallbackAPIVersion.VERSION2)
    pub.connect(fresh_broker.host, fresh_broker.port)
    pub.loop_start()
    try:
        wait_for(running.client.subscribed.is_set, 10, what="ingest subscribed")
        (contrib / "charts" / "99_volume.yaml").write_text(
            "key: volume\ntitle: Volume\nmqtt_topic: bioreactor/current_volume_ml\npayload_key: value\n"
        )
        topic = "pioreactor/u1/e1/bioreactor/current_volume_ml"
        ms = itertools.count()

        def stored() -> int:  # published until the new subscription catches one
            pub.publish(topic, f'{{"timestamp":"2026-11-21T04:52:19.{next(ms):03d}Z","value":14.0}}', qos=1)
            db = connect(app.config["DATABASE"])
            try:
                return int(db.execute("SELECT count(*) FROM readings WHERE series = 'volume'").fetchone()[0])
            finally:
                db.close()

        wait_for(stored, 10, 0.1, what="a reading of the new chart stored")
    finally:
        pub.loop_stop()
        pub.disconnect()
        running.stop()

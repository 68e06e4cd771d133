"""Fleet management with real processes: two pio-sim agents leader web + worker, mosquitto.

Versions and health arrive by the agents' heartbeats; clocks are measured and synced (dry run); a plugin
wheel built here is installed on both units, listed, uninstalled; an active calibration is set on all units.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import paho.mqtt.publish as mqtt_publish
import pytest
import requests

from cluster_schema import topics
from cluster_schema.codec import encode
from cluster_schema.fleet import AgentStatus, UnitVersions
from devcluster.broker import Broker
from devcluster.cluster import Cluster
from devcluster.procs import wait_for
from devcluster.units import unit_paths
from tests.plugin_wheel import PLUGIN, build_plugin_wheel

pytestmark = [pytest.mark.cluster, pytest.mark.xdist_group("fleet_cluster"), pytest.mark.timeout(180)]

UNITS = ["unit1", "unit2"]

CALIBRATION = """calibration_type: od
calibration_name: {name}
calibrated_on_pioreactor_unit: {unit}
created_at: 2026-01-01T00:00:00Z
curve_data_:
  type: poly
  coefficients: [2.0, 0.5]
x: OD
y: Voltage
recorded_data:
  x: [0.0, 0.5, 1.0]
  y: [0.5, 1.5, 2.5]
ir_led_intensity: 70
angle: "90"
pd_channel: "2"
"""


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory, mqtt_broker: Broker) -> Iterator[Cluster]:
    tmp = tmp_path_factory.mktemp("fleet")
    wheels = build_plugin_wheel(tmp)
    c = Cluster(
        tmp / "cluster",
        units=2,
        broker=mqtt_broker,
        leader_settings={"PLUGINS_ENABLED": True, "OPERATION_DEADLINE": 60.0},
        agent_settings={
            "allow_plugins": True,
            "plugins_find_links": str(wheels),
            "heartbeat_interval": 3.0,
            "heartbeat_check": 0.5,
        },
    )
    c.start()
    try:
        yield c
    finally:
        c.stop()


def _units(cluster: Cluster) -> dict[str, dict]:  # type: ignore[type-arg]
    r = cluster.api("GET", "/api/units")
    assert r.status_code == 200, r.text
    return {u["name"]: u for u in r.json()}


def _agent(cluster: Cluster, name: str, path: str) -> object:
    agent = next(a for a in cluster.agents if a.name == name)
    r = requests.get(
        agent.url + path, headers={"Authorization": f"Bearer {cluster.cluster_token}"}, timeout=10
    )
    r.raise_for_status()
    return r.json()


def test_versions_and_health_appear_and_follow_a_new_pio(cluster: Cluster) -> None:
    def all_have_versions() -> bool:
        units = _units(cluster)
        return all((units[u].get("versions") or {}).get("pio") == "26.11.1" for u in UNITS)

    started = time.monotonic()
    wait_for(all_have_versions, timeout=15, what="versions of every unit")
    units = _units(cluster)
    for name in UNITS:
        u = units[name]
        assert set(u["versions"]) == {"agent", "pio", "python", "schema"} and u["versions_checked_at"]
        health = u["health"]
        assert health["disk_free_bytes"] > 0 and health["memory_free_bytes"] > 0
        assert health["running_jobs"] == 0
    # a live heartbeat carries the clock: the offset of a unit on this machine is near zero
    wait_for(
        lambda: all((_units(cluster)[u]["health"] or {}).get("clock_offset_s") is not None for u in UNITS),
        timeout=10,
        what="clock offsets",
    )
    for name in UNITS:
        assert abs(_units(cluster)[name]["health"]["clock_offset_s"]) < 1.0
        assert _units(cluster)[name]["health"]["worker_alive"] is True
    print(f"versions of every unit after {time.monotonic() - started:.1f} s")

    # replace unit1's pio: a new executable answers another version; the agent notices by path+mtime
    pio = unit_paths(cluster.workdir / "unit1" / "unit").pio
    original = pio.read_text()
    new = original.replace("exec ", 'if [ "$1" = version ]; then echo 26.12.0; exit 0; fi\nexec ', 1)
    try:
        tmp = pio.with_suffix(".new")
        tmp.write_text(new)
        tmp.chmod(0o755)
        os.replace(tmp, pio)
        wait_for(
            lambda: _units(cluster)["unit1"]["versions"]["pio"] == "26.12.0", timeout=10, what="the new pio"
        )
        assert _units(cluster)["unit2"]["versions"]["pio"] == "26.11.1"
        assert _agent(cluster, "unit1", "/unit_api/versions")["pio"] == "26.12.0"  # type: ignore[index]
    finally:
        tmp = pio.with_suffix(".new")
        tmp.write_text(original)
        tmp.chmod(0o755)
        os.replace(tmp, pio)
    wait_for(lambda: _units(cluster)["unit1"]["versions"]["pio"] == "26.11.1", timeout=10, what="pio back")


def test_clock_offset_seen_and_synced_dry_run(cluster: Cluster, mqtt_broker: Broker) -> None:
    # a unit whose clock runs 5 s ahead: its heartbeat says so (published as that unit would)
    assert cluster.api("POST", "/api/units", json={"name": "skewed", "port": 1}).status_code == 201
    try:

        def publish_skewed_heartbeat() -> None:
            ahead = datetime.now(UTC) + timedelta(seconds=5)
            status = AgentStatus(
                unit="skewed",
                versions=UnitVersions(agent="0", pio="26.11.1", python="3", schema=1),
                utc=ahead.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            )
            mqtt_publish.single(
                topics.status_topic("skewed"),
                encode(status),
                qos=1,
                hostname=mqtt_broker.host,
                port=mqtt_broker.port,
            )

        def offset() -> float | None:
            return (_units(cluster)["skewed"]["health"] or {}).get("clock_offset_s")

        def seen() -> bool:
            # heartbeats repeat, as an agent's do: one publish lost to a loaded machine is not the answer
            if offset() is None:
                publish_skewed_heartbeat()
                return False
            return True

        wait_for(seen, timeout=30, interval=1.0, what="the skewed unit's offset")
        assert 4.5 < offset() < 5.1  # type: ignore[operator]
    finally:
        assert cluster.api("DELETE", "/api/units/skewed").status_code == 204

    op = cluster.api("POST", "/api/units/$all/system/clock?wait=25").json()["operation"]
    assert op["kind"] == "system.clock" and op["status"] == "succeeded", op["steps"]
    assert sorted(s["unit"] for s in op["steps"]) == UNITS
    assert all(
        s["detail"].startswith("clock set to ") and s["detail"].endswith("(dry run)") for s in op["steps"]
    )


def test_identify_flickers_through_the_monitor_topic(cluster: Cluster, mqtt_broker: Broker) -> None:
    from tests.agent.harness import Subscriber

    sub = Subscriber(mqtt_broker, "pioreactor/unit2/$experiment/monitor/flicker_led_response_okay")
    try:
        op = cluster.api("POST", "/api/units/unit2/identify?wait=20").json()["operation"]
        assert op["status"] == "succeeded", op
        wait_for(lambda: sub.find(lambda m: m[1] == b"1"), timeout=20, what="the flicker request")
    finally:
        sub.close()


def test_plugin_installs_lists_and_uninstalls_on_two_units(cluster: Cluster) -> None:
    before = len(cluster.api("GET", "/api/operations?limit=200").json()["operations"])
    for bad, field in (
        ({"name": "x; rm -rf /"}, "$.name"),
        ({"name": "../x"}, "$.name"),
        ({"name": PLUGIN, "version": "--index-url=http://evil"}, "$.version"),
        ({"name": PLUGIN, "version": "https://example.com/x.whl"}, "$.version"),
    ):
        r = cluster.api("POST", "/api/plugins/install", json=bad)
        assert r.status_code == 400 and field in r.json()["message"], (bad, r.text)
    assert (
        len(cluster.api("GET", "/api/operations?limit=200").json()["operations"]) == before
    )  # nothing queued

    r = cluster.api("POST", "/api/plugins/install?wait=30", json={"name": PLUGIN, "version": "0.1.0"})
    op = r.json()["operation"]
    assert r.status_code == 202 and op["status"] == "succeeded", op
    assert sorted(s["unit"] for s in op["steps"]) == UNITS
    listed = cluster.api("GET", "/api/plugins").json()
    for name in UNITS:
        assert {"name": PLUGIN, "version": "0.1.0"} in listed["units"][name], listed

    op = cluster.api("POST", "/api/plugins/uninstall?wait=30", json={"name": PLUGIN}).json()["operation"]
    assert op["status"] == "succeeded", op
    listed = cluster.api("GET", "/api/plugins").json()
    assert all(p["name"] != PLUGIN for name in UNITS for p in listed["units"][name]), listed


def test_active_calibration_set_on_all_units_is_seen_on_each(cluster: Cluster) -> None:
    for name in UNITS:
        folder = unit_paths(cluster.workdir / name / "unit").dot / "storage" / "calibrations" / "od"
        folder.mkdir(parents=True, exist_ok=True)
        for cal in ("cal_a", "cal_b"):
            (folder / f"{cal}.yaml").write_text(CALIBRATION.format(name=cal, unit=name))
    listed = cluster.api("GET", "/api/units/unit1/calibrations").json()["calibrations"]
    assert {(c["device"], c["name"]) for c in listed} == {("od", "cal_a"), ("od", "cal_b")}
    curve = cluster.api("GET", "/api/units/unit1/calibrations/od/cal_a").json()
    assert curve["curve_type"] == "poly" and curve["recorded_x"] == [0.0, 0.5, 1.0]
    assert curve["points"][0] == [0.0, 0.5] and curve["points"][-1] == [1.0, 2.5]

    for bad in ("..x", "a/b", "a%2F..%2Fb", "x..y"):  # (a client removes a bare ../ itself)
        r = cluster.api("PATCH", f"/api/units/$all/active_calibrations/od/{bad}")
        assert r.status_code == 400 and "name" in r.json()["message"], (bad, r.text)

    op = cluster.api("PATCH", "/api/units/$all/active_calibrations/od/cal_b?wait=20").json()["operation"]
    assert op["kind"] == "calibration.set_active" and op["status"] == "succeeded", op
    for name in UNITS:
        on_unit = _agent(cluster, name, "/unit_api/calibrations")["calibrations"]  # type: ignore[index]
        assert {c["name"]: c["active"] for c in on_unit} == {"cal_a": False, "cal_b": True}
    coverage = cluster.api("GET", "/api/calibrations/coverage").json()
    assert coverage["devices"] == ["od"] and coverage["units"] == {u: {"od": "cal_b"} for u in UNITS}

    # one unit back to cal_a; a missing calibration fails that step with the reason
    op = cluster.api("PATCH", "/api/units/unit2/active_calibrations/od/cal_a?wait=20").json()["operation"]
    assert op["status"] == "succeeded"
    op = cluster.api("PATCH", "/api/units/unit1/active_calibrations/od/nope?wait=20").json()["operation"]
    assert op["status"] == "failed" and "nope" in op["steps"][0]["detail"], op

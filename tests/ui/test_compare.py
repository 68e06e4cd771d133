"""Comparing experiments in a real browser against a real cluster: tick two experiments on /experiments (one
archived), Compare, and the OD chart overlays both on hours since each one's start; clock time, hiding a
series from the legend, the CSV of what is shown."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import pytest

from devcluster.cluster import Cluster
from devcluster.procs import wait_for

from .conftest import SHOTS, Watched

pytestmark = [pytest.mark.cluster, pytest.mark.xdist_group("ui_cluster"), pytest.mark.timeout(600)]
# seconds after each experiment's start, the same for both (up to 30 s ahead of the leader's clock: the page
# reads up to a minute ahead, for units whose clocks run a little fast)
OFFSETS = (10.0, 20.0, 30.0)


def _iso(t: float) -> str:
    return datetime.fromtimestamp(t).astimezone().isoformat(timespec="milliseconds")


def _publish(cluster: Cluster, readings: list[tuple[str, str, float, float]]) -> None:
    """OD readings (unit, experiment, time, od) as real pio publishes them."""
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

    assert cluster.broker is not None
    pub = mqtt.Client(CallbackAPIVersion.VERSION2)
    pub.connect(cluster.broker.host, cluster.broker.port)
    pub.loop_start()
    try:
        for unit, exp, t, od in readings:
            doc = {"od": od, "angle": "90", "channel": "2", "timestamp": _iso(t)}
            topic = f"pioreactor/{unit}/{exp}/od_reading/od2"
            pub.publish(topic, json.dumps(doc), qos=1).wait_for_publish(5)
    finally:
        pub.loop_stop()
        pub.disconnect()


def _stored(cluster: Cluster, exp: str, start: float) -> int:
    answer = cluster.api(
        "GET", f"/api/experiments/{exp}/time_series/od?since={start - 60}&until={start + 600}"
    )
    return sum(len(rows) for rows in answer.json()["units"].values())


def _series(ui: Watched) -> dict[str, dict[str, Any]]:
    text = ui.page.locator('[data-chart="od"]').get_attribute("data-series") or "[]"
    return {s["name"]: s for s in json.loads(text)}


def _create(cluster: Cluster, name: str) -> float:
    answer = cluster.api("POST", "/api/experiments", json={"name": name, "description": "compared"})
    assert answer.status_code == 201, answer.text
    return datetime.fromisoformat(answer.json()["created_at"]).timestamp()


def test_two_experiments_overlay_on_elapsed_hours(ui: Watched, cluster: Cluster, tmp_path: Any) -> None:
    from playwright.sync_api import expect

    page = ui.page
    start_a = _create(cluster, "cmp-a")
    start_b = _create(cluster, "cmp-b")
    assert start_b > start_a
    body = {"units": ["unit1"], "move": True}
    assert cluster.api("PUT", "/api/experiments/cmp-b/units", json=body).status_code == 200
    assert cluster.api("PUT", "/api/experiments/cmp-b/units/unit1/label", json={"label": "glucose"}).ok
    readings = [
        (u, "cmp-a", start_a + s, 0.01 * (i + 1) + (0.004 if u == "unit2" else 0))
        for u in ("unit1", "unit2")
        for i, s in enumerate(OFFSETS)
    ]
    readings += [("unit1", "cmp-b", start_b + s, 0.03 + 0.005 * i) for i, s in enumerate(OFFSETS)]
    _publish(cluster, readings)
    wait_for(lambda: _stored(cluster, "cmp-a", start_a) == 6, 30, 0.2, "cmp-a's 6 readings stored")
    wait_for(lambda: _stored(cluster, "cmp-b", start_b) == 3, 30, 0.2, "cmp-b's 3 readings stored")
    assert cluster.api("DELETE", "/api/experiments/cmp-a?data=keep").status_code == 204  # archived

    ui.goto("/experiments")
    page.get_by_label("Compare cmp-a", exact=True).check()
    page.get_by_label("Compare cmp-b", exact=True).check()
    # the list follows the cluster's experiment events: rows fetched again keep their ticks
    assert cluster.api("POST", "/api/experiments", json={"name": "cmp-later"}).status_code == 201
    expect(page.locator('[data-experiment="cmp-later"]')).to_be_visible()
    expect(page.get_by_label("Compare cmp-a", exact=True)).to_be_checked()
    expect(page.get_by_label("Compare cmp-b", exact=True)).to_be_checked()
    expect(page.get_by_label("Compare cmp-later", exact=True)).not_to_be_checked()
    SHOTS.mkdir(parents=True, exist_ok=True)
    for width in (390, 1440):
        page.set_viewport_size({"width": width, "height": 900})
        page.locator("#experiments-list").screenshot(path=str(SHOTS / f"compare-ticks-{width}.png"))
    page.get_by_role("button", name="Compare selected").click()
    page.wait_for_url("**/experiments/compare?e=cmp-b&e=cmp-a")

    od = page.locator('[data-chart="od"]')
    expect(od).to_have_attribute("data-points", "9")
    series = _series(ui)
    assert set(series) == {"cmp-a · unit1", "cmp-a · unit2", "cmp-b · glucose"}
    # elapsed hours: both experiments' readings at 1 s and 3 s after their own start
    for s in series.values():
        assert s["points"] == 3
        assert s["x"] == pytest.approx([OFFSETS[0] / 3600, OFFSETS[-1] / 3600], abs=0.01 / 3600), s
    expect(page.locator("[data-compare-note]")).to_have_text("")
    expect(page.locator(".compare-experiments")).to_contain_text("archived")

    # clock time: the same readings apart by the experiments' starts
    page.get_by_role("button", name="Clock time").click()
    expect(od.locator(".u-legend .u-series").first).to_contain_text("Time")
    series = _series(ui)
    assert series["cmp-a · unit1"]["x"][0] == pytest.approx(start_a + OFFSETS[0], abs=0.01)
    assert series["cmp-b · glucose"]["x"][0] == pytest.approx(start_b + OFFSETS[0], abs=0.01)
    page.get_by_role("button", name="Elapsed hours").click()
    expect(od.locator(".u-legend .u-series").first).to_contain_text("Elapsed")

    # a legend click hides one series: its points leave the count and the CSV
    legend = od.locator(".u-legend .u-series:not(.band-series)")
    legend.filter(has_text="cmp-a · unit2").click()
    expect(legend.filter(has_text="cmp-a · unit2")).to_have_class("u-series u-off")
    expect(od).to_have_attribute("data-points", "6")
    with page.expect_download() as info:
        page.get_by_role("button", name="CSV").click()
    info.value.save_as(tmp_path / "compare.csv")
    rows = (tmp_path / "compare.csv").read_text().strip().split("\n")
    assert rows[0] == "experiment,unit,label,time,elapsed_hours,avg,min,max"
    assert sorted(r.split(",")[0] for r in rows[1:]) == ["cmp-a"] * 3 + ["cmp-b"] * 3
    assert {r.split(",")[4] for r in rows[1:]} == {"0.0028", "0.0056", "0.0083"}
    assert info.value.suggested_filename == "cmp-b_vs_cmp-a-od.csv"
    with page.expect_download() as info:
        page.get_by_role("button", name="PNG").click()
    info.value.save_as(tmp_path / "compare.png")
    assert (tmp_path / "compare.png").read_bytes().startswith(b"\x89PNG")
    (SHOTS / "compare-chart-download.png").write_bytes((tmp_path / "compare.png").read_bytes())

    legend.filter(has_text="cmp-a · unit2").click()  # all shown again for the screenshots
    expect(od).to_have_attribute("data-points", "9")
    ui.check("compare")
    for width in (1440, 390):
        page.set_viewport_size({"width": width, "height": 900})
        expect(od.locator("canvas")).to_be_visible()
        page.locator("#comparison").screenshot(path=str(SHOTS / f"compare-card-{width}.png"))

    # a missing experiment says so on the page (a 404, which the browser logs once as a failed load)
    ui.goto("/experiments/compare?e=cmp-a&e=nothing-here")
    expect(page.locator("[data-compare-problem]")).to_contain_text(
        "No experiment named 'nothing-here' at `e`"
    )
    page.screenshot(path=str(SHOTS / "compare-problem-1440.png"))
    ui.errors[:] = [e for e in ui.errors if "status of 404" not in e]

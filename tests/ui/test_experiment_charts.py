"""The experiment page's charts in a real browser against a real cluster (two pio-sim agents): history and
live points, windows, axis toggle, hiding a unit from the legend, markers, CSV and PNG downloads."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from devcluster.cluster import Cluster
from devcluster.procs import wait_for

from .conftest import SHOTS, Watched

pytestmark = [pytest.mark.cluster, pytest.mark.xdist_group("ui_cluster"), pytest.mark.timeout(600)]
LIVE = 30_000  # ms: live updates under CI's parallel load
CSV_HEADER = "unit,label,time,elapsed_hours,avg,min,max"


def _expect() -> Any:
    from playwright.sync_api import expect

    return expect


def _points(ui: Watched, key: str) -> int:
    return int(ui.page.locator(f'[data-chart="{key}"]').get_attribute("data-points") or 0)


def _start(cluster: Cluster, job: str, overrides: list[list[str]] | None = None) -> None:
    body = {"options": {}, "config_overrides": overrides or []}
    answer = cluster.api("POST", f"/api/experiments/exp/jobs/{job}/start", json=body)
    assert answer.status_code == 202, answer.text


def _markers(cluster: Cluster) -> set[str]:
    answer = cluster.api("GET", f"/api/experiments/exp/chart_markers?since={time.time() - 3600}")
    return {m["kind"] for m in answer.json()["markers"]}


def _now(offset: float = 0.0) -> str:
    t = time.time() + offset
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + f".{int(t % 1 * 1000):03d}Z"


def _publish(cluster: Cluster, topic: str, *docs: dict[str, Any]) -> None:
    """As real pio publishes under `pioreactor/unit2/exp/`."""
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

    assert cluster.broker is not None
    pub = mqtt.Client(CallbackAPIVersion.VERSION2)
    pub.connect(cluster.broker.host, cluster.broker.port)
    pub.loop_start()
    try:
        for doc in docs:
            pub.publish(f"pioreactor/unit2/exp/{topic}", json.dumps(doc), qos=1).wait_for_publish(5)
    finally:
        pub.loop_stop()
        pub.disconnect()


def _y_scale(ui: Watched, key: str) -> tuple[float, float]:
    """The y span the chart drew (experiment_charts.js writes uPlot's y scale after each draw)."""
    text = ui.page.locator(f'[data-chart="{key}"]').get_attribute("data-y-scale") or "nan,nan"
    lo, hi = (float(v) for v in text.split(","))
    return lo, hi


def test_charts_draw_update_and_download(ui: Watched, cluster: Cluster, tmp_path: Any) -> None:
    expect = _expect()
    page = ui.page
    assert cluster.api("PUT", "/api/experiments/exp/units/unit1/label", json={"label": "glucose A"}).ok
    _start(cluster, "od_reading")
    # a growth rate after 3 OD readings, not the default 35 (about 3 minutes at 5 s)
    _start(
        cluster,
        "growth_rate_calculating",
        [["growth_rate_calculating.config", "samples_for_od_statistics", "3"]],
    )
    wait_for(lambda: "job_start" in _markers(cluster), 60, 0.5, "job start markers")

    ui.goto("/experiments/exp")
    od = page.locator('[data-chart="od"]')
    expect(od).not_to_have_attribute("data-points", "0", timeout=LIVE)
    # live: the point count grows while the page stays open
    page.wait_for_function(
        "n => Number(document.querySelector('[data-chart=\"od\"]').dataset.points) > n",
        arg=_points(ui, "od"),
        timeout=LIVE,
    )
    expect(page.locator('[data-chart="growth_rate"]')).not_to_have_attribute(
        "data-points", "0", timeout=60_000
    )
    # markers: the job starts, then a pump run arriving live (as real pio publishes it)
    wait_for(lambda: int(od.get_attribute("data-markers") or 0) >= 4, 30, 0.2, "4 job start markers")
    before = int(od.get_attribute("data-markers") or 0)
    doc = {"volume_change": 1.0, "event": "add_media", "source_of_event": "manual", "timestamp": _now()}
    _publish(cluster, "dosing_events", doc)
    wait_for(lambda: int(od.get_attribute("data-markers") or 0) > before, 30, 0.2, "a live dosing marker")
    assert {"job_start", "dosing"} <= _markers(cluster)

    # the descriptor's y range (temperature: 20-45 ℃) spans the axis though the data is a narrow 30-30.4,
    # and the axis grows past y_min once a reading goes below it (never clipped); below, not above: a hot
    # reading left in the shared cluster could trip the alerts page test's `temperature > 40` rule
    temp = page.locator('[data-chart="temperature"]')
    assert (temp.get_attribute("data-y-min"), temp.get_attribute("data-y-max")) == ("20.0", "45.0")
    temperature = "temperature_automation/temperature"
    before = _points(ui, "temperature")
    _publish(
        cluster,
        temperature,
        *({"temperature": v, "timestamp": _now(i - 3)} for i, v in enumerate((30.0, 30.4))),
    )
    wait_for(lambda: _points(ui, "temperature") >= before + 2, 30, 0.2, "two live temperatures")
    wait_for(lambda: _y_scale(ui, "temperature") == (20.0, 45.0), 10, 0.2, "the y axis spans 20-45")
    _publish(cluster, temperature, {"temperature": 15.0, "timestamp": _now()})
    wait_for(lambda: _y_scale(ui, "temperature")[0] <= 15.0, 30, 0.2, "the y axis grows below 20 for 15")
    assert _y_scale(ui, "temperature")[1] == 45.0

    # per-experiment labels in the legend; the min/max band rows are no legend entries
    legend = od.locator(".u-legend .u-series:not(.band-series)")
    expect(legend.filter(has_text="glucose A")).to_have_count(1)
    expect(legend.filter(has_text="unit2")).to_have_count(1)

    # windows: 1 h, then the elapsed-hours axis, then a custom range
    page.get_by_role("button", name="1 h", exact=True).click()
    expect(page.get_by_role("button", name="1 h", exact=True)).to_have_attribute("aria-pressed", "true")
    expect(od).not_to_have_attribute("data-points", "0", timeout=LIVE)
    page.get_by_role("button", name="Elapsed hours").click()
    expect(od.locator(".u-legend .u-series").first).to_contain_text("Elapsed", timeout=LIVE)
    page.get_by_role("button", name="Custom…").click()
    page.locator("#chart-from").fill(time.strftime("%Y-%m-%dT%H:%M", time.gmtime(time.time() - 3600)))
    page.get_by_role("button", name="Show", exact=True).click()
    expect(od).not_to_have_attribute("data-points", "0", timeout=LIVE)
    page.get_by_role("button", name="24 h", exact=True).click()
    expect(od).not_to_have_attribute("data-points", "0", timeout=LIVE)

    # hide unit1 from its legend entry: fewer points, and it leaves the CSV
    both = _points(ui, "od")
    legend.filter(has_text="glucose A").click()
    expect(legend.filter(has_text="glucose A")).to_have_class("u-series u-off")
    wait_for(lambda: 0 < _points(ui, "od") < both, 10, 0.2, "fewer points once unit1 is hidden")

    box = page.locator("[data-chart-box]").filter(has=od)
    with page.expect_download() as info:
        box.get_by_role("button", name="CSV").click()
    info.value.save_as(tmp_path / "od.csv")
    lines = (tmp_path / "od.csv").read_text()
    rows = lines.strip().split("\n")
    assert rows[0] == CSV_HEADER
    assert len(rows) > 1 and all(r.startswith("unit2,unit2,") for r in rows[1:]), rows[:3]
    with page.expect_download() as info:
        box.get_by_role("button", name="PNG").click()
    info.value.save_as(tmp_path / "od.png")
    png = (tmp_path / "od.png").read_bytes()
    assert png.startswith(b"\x89PNG") and len(png) > 2000
    SHOTS.mkdir(parents=True, exist_ok=True)  # a fresh checkout has none before the first ui.check
    (SHOTS / "experiment-chart-download.png").write_bytes(png)  # to look at beside the screenshots
    assert info.value.suggested_filename == "exp-od.png"

    legend.filter(has_text="glucose A").click()  # shown again for the screenshots, on clock time
    page.get_by_role("button", name="Clock time").click()
    expect(od.locator(".u-legend .u-series").first).to_contain_text("Time", timeout=LIVE)
    ui.check("experiment-charts")
    for width in (1440, 390):  # the charts card alone, to look at closely
        page.set_viewport_size({"width": width, "height": 900})
        expect(od.locator("canvas")).to_be_visible()
        page.locator("#charts").screenshot(path=str(SHOTS / f"experiment-charts-card-{width}.png"))

"""Open alerts on every page, live: the navigation's count (and the phone menu button's) changes on the
dashboard when an alert opens and when it resolves, and a notice of the new alert appears there, without a
reload and without taking focus. The alert is a threshold rule tripped by a reading published as pio would."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest

from devcluster.broker import Broker
from devcluster.cluster import Cluster
from devcluster.procs import wait_for

from .conftest import UNITS, Watched

pytestmark = [pytest.mark.cluster, pytest.mark.xdist_group("ui_alerts_nav"), pytest.mark.timeout(600)]
LIVE = 45_000  # ms: an evaluation round (1 s here), the ingest, the stream's poll, under CI's load
TEMPERATURE = "temperature_automation/temperature"


def alerting_cluster(
    tmp_path_factory: pytest.TempPathFactory, broker: Broker, name: str
) -> Iterator[Cluster]:
    """As the shared one, with the worker evaluating alerts every second (not every 10) and a threshold
    rule on unit2's temperature that `_publish_temperature` trips and clears (also used by /alerts' tests)."""
    c = Cluster(
        tmp_path_factory.mktemp(name),
        units=len(UNITS),
        broker=broker,
        leader_settings={"ALERTS_INTERVAL": 1.0},
    )
    c.start()
    try:
        assert c.api("POST", "/api/experiments", json={"name": "exp"}).status_code == 201
        assert c.api("PUT", "/api/experiments/exp/units", json={"units": UNITS}).status_code == 200
        # every test trips this rule, whichever of them runs first (or alone)
        rule = {"experiment": "exp", "series": "temperature", "op": ">", "value": 40, "hold_seconds": 0}
        assert c.api("POST", "/api/alerts/rules", json=rule).status_code == 201
        yield c
    finally:
        c.stop()


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory, mqtt_broker: Broker) -> Iterator[Cluster]:
    yield from alerting_cluster(tmp_path_factory, mqtt_broker, "ui-alerts-nav")


def _now() -> str:
    t = time.time()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + f".{int(t % 1 * 1000):03d}Z"


def _publish_temperature(cluster: Cluster, value: float) -> None:
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

    assert cluster.broker is not None
    pub = mqtt.Client(CallbackAPIVersion.VERSION2)
    pub.connect(cluster.broker.host, cluster.broker.port)
    pub.loop_start()
    try:
        doc = {"temperature": value, "timestamp": _now()}
        pub.publish(f"pioreactor/unit2/exp/{TEMPERATURE}", json.dumps(doc), qos=1).wait_for_publish(5)
    finally:
        pub.loop_stop()
        pub.disconnect()


def _open(cluster: Cluster) -> list[dict[str, Any]]:
    return list(cluster.api("GET", "/api/alerts?state=open").json())


def _streams(ui: Watched, path: str) -> list[str]:
    """The requests to /api/events made by the page at `path` (its referer); the page signed in on lands
    on `/` and may still be opening its own stream, so a test goes elsewhere first."""
    found: list[str] = []
    page = ui.page

    def seen(r: Any) -> None:
        if "/api/events" in r.url and r.headers.get("referer") == ui.leader_url + path:
            found.append(r.url)

    ui.goto("/units")
    page.wait_for_load_state("load")
    page.on("request", seen)
    return found


def _count_label(n: int) -> str:
    return f"Alerts ({n} open alert{'' if n == 1 else 's'})"


def test_the_dashboard_follows_alerts_opening_and_resolving(ui: Watched, cluster: Cluster) -> None:
    from playwright.sync_api import expect

    page = ui.page
    streams = _streams(ui, "/")
    before = len(_open(cluster))
    ui.goto("/")
    page.wait_for_load_state("load")
    nav = page.get_by_role("navigation", name="Main")
    count = nav.locator("[data-alerts-count]")
    if before == 0:
        expect(count).to_be_hidden()
    else:
        expect(nav.get_by_role("link", name=_count_label(before))).to_be_visible()
    page.evaluate("window.__notReloaded = true")
    page.get_by_role("link", name="Units", exact=True).focus()

    _publish_temperature(cluster, 45.0)

    # the count rises and a notice of the alert appears: text, a link to /alerts, a dismiss button
    expect(nav.get_by_role("link", name=_count_label(before + 1))).to_be_visible(timeout=LIVE)
    expect(count).to_contain_text(str(before + 1))
    toast = page.locator("[data-toasts] [data-toast]")
    expect(toast).to_have_count(1)
    expect(toast).to_contain_text("temperature on unit2 (experiment exp) is 45")
    expect(toast.get_by_role("link", name="See alerts")).to_have_attribute("href", "/alerts")
    expect(page.locator("[data-toasts]")).to_have_attribute("role", "status")
    # nothing stole the focus, nothing reloaded
    assert page.evaluate("document.activeElement.textContent.trim()") == "Units"
    assert page.evaluate("window.__notReloaded") is True
    ui.check("alerts-nav-open")
    # on a phone the menu is collapsed: its button carries the count
    page.set_viewport_size({"width": 390, "height": 844})
    menu = page.get_by_role("button", name=f"Menu ({before + 1} open alert{'' if before == 0 else 's'})")
    expect(menu).to_be_visible()
    expect(menu.locator(".badge-count")).to_be_visible()
    page.set_viewport_size({"width": 1440, "height": 900})

    # the reading falls back: the alert resolves, the count goes back and its notice goes away
    _publish_temperature(cluster, 30.0)
    if before == 0:
        expect(count).to_be_hidden(timeout=LIVE)
        expect(nav.get_by_role("link", name="Alerts", exact=True)).to_be_visible()
    else:
        expect(nav.get_by_role("link", name=_count_label(before))).to_be_visible(timeout=LIVE)
    expect(toast).to_have_count(0)
    assert page.evaluate("window.__notReloaded") is True
    assert len(_open(cluster)) == before
    ui.check("alerts-nav-resolved")
    # one stream of /api/events for the page
    assert len(streams) == 1, streams


def test_a_notice_is_dismissed_and_experiments_share_the_pages_one_stream(
    ui: Watched, cluster: Cluster
) -> None:
    from playwright.sync_api import expect

    page = ui.page
    streams = _streams(ui, "/experiments")
    ui.goto("/experiments")
    page.wait_for_load_state("load")
    nav = page.get_by_role("navigation", name="Main")
    before = len(_open(cluster))

    _publish_temperature(cluster, 46.0)
    expect(nav.get_by_role("link", name=_count_label(before + 1))).to_be_visible(timeout=LIVE)
    toast = page.locator("[data-toasts] [data-toast]")
    expect(toast).to_have_count(1)
    toast.get_by_role("button", name="Dismiss this notice").click()
    expect(toast).to_have_count(0)
    # the experiments list hears its own events on the same stream
    assert cluster.api("POST", "/api/experiments", json={"name": "shared-stream"}).status_code == 201
    expect(page.locator('tr[data-experiment="shared-stream"]')).to_have_count(1, timeout=LIVE)
    assert len(streams) == 1, streams

    _publish_temperature(cluster, 30.0)
    expect(nav.locator("[data-alerts-count]")).to_have_attribute(
        "data-alerts-count", str(before), timeout=LIVE
    )
    assert cluster.api("DELETE", "/api/experiments/shared-stream?data=delete&wait=10").status_code in (
        202,
        204,
    )


def test_a_hidden_tab_lets_its_stream_go_and_catches_up_when_shown(ui: Watched, cluster: Cluster) -> None:
    """A tab hidden for a minute closes its /api/events stream (a web worker thread); shown again, it reopens
    from the last event it had and the count catches up with what happened meanwhile."""
    from playwright.sync_api import expect

    page = ui.page
    page.clock.install()
    streams = _streams(ui, "/logs")
    ui.goto("/logs")
    page.wait_for_load_state("load")
    nav = page.get_by_role("navigation", name="Main")
    before = len(_open(cluster))
    _publish_temperature(cluster, 47.0)  # an event seen while shown: the cursor the tab resumes from
    expect(nav.get_by_role("link", name=_count_label(before + 1))).to_be_visible(timeout=LIVE)
    assert len(streams) == 1, streams

    page.evaluate(
        """() => {
          Object.defineProperty(document, "visibilityState", { value: "hidden", configurable: true });
          document.dispatchEvent(new Event("visibilitychange"));
        }"""
    )
    page.clock.fast_forward(61_000)
    _publish_temperature(cluster, 30.0)  # resolves while nobody listens
    wait_for(lambda: len(_open(cluster)) == before, LIVE / 1000, 0.2, "the alert resolved")
    expect(nav.locator("[data-alerts-count]")).to_have_attribute("data-alerts-count", str(before + 1))

    page.evaluate(
        """() => {
          Object.defineProperty(document, "visibilityState", { value: "visible", configurable: true });
          document.dispatchEvent(new Event("visibilitychange"));
        }"""
    )
    expect(nav.locator("[data-alerts-count]")).to_have_attribute(
        "data-alerts-count", str(before), timeout=LIVE
    )
    assert len(streams) == 2 and "after=" in streams[1], streams
    expect(page.locator("[data-toasts] [data-toast]")).to_have_count(0)

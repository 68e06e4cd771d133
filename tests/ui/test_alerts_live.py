"""/alerts, live: on a page already open, an alert that opens appears at the top of the list and, when it
resolves, moves to the resolved ones with its time, the counts following, without a reload and on the
page's one stream of /api/events. A row drawn by the page is the row the server draws after a reload
(phones stack it by the same `data-label`s). The alert is a threshold rule tripped by a published reading."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from devcluster.broker import Broker
from devcluster.cluster import Cluster
from devcluster.procs import wait_for
from tests.alert_receivers import Webhook

from .conftest import SHOTS, Watched
from .test_alerts_nav import LIVE, _open, _publish_temperature, _streams, alerting_cluster

pytestmark = [pytest.mark.cluster, pytest.mark.xdist_group("ui_alerts_live"), pytest.mark.timeout(600)]
SUMMARY = "temperature on unit2 (experiment exp) is 45"


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory, mqtt_broker: Broker) -> Iterator[Cluster]:
    yield from alerting_cluster(tmp_path_factory, mqtt_broker, "ui-alerts-live")


def _html(ui: Watched, selector: str) -> str:
    """A row's markup, whitespace between tags aside (the server's template indents, a script does not)."""
    html = ui.page.locator(selector).evaluate("el => el.outerHTML")
    return re.sub(r">\s+<", "><", html)


def _card_shots(ui: Watched, name: str) -> None:
    """The alerts card alone at both widths, to look at the drawn rows beside the full-page shots."""
    for width in (1440, 390):
        ui.page.set_viewport_size({"width": width, "height": 900})
        ui.page.locator("#recorded").screenshot(path=str(SHOTS / f"alerts-live-{name}-card-{width}.png"))
    ui.page.set_viewport_size({"width": 1440, "height": 900})


def test_an_alert_appears_on_the_open_page_and_moves_to_the_resolved_ones(
    ui: Watched, cluster: Cluster
) -> None:
    from playwright.sync_api import expect

    page = ui.page
    # an alert already recorded and resolved: the new one goes above it, and stays above it once resolved
    _publish_temperature(cluster, 45.0)
    wait_for(lambda: len(_open(cluster)) == 1, LIVE / 1000, 0.2, "the first alert opened")
    _publish_temperature(cluster, 30.0)
    wait_for(lambda: len(_open(cluster)) == 0, LIVE / 1000, 0.2, "the first alert resolved")
    streams = _streams(ui, "/alerts")
    ui.goto("/alerts")
    page.wait_for_load_state("load")
    rows = page.locator("table[data-alerts] tbody tr[data-alert]")
    expect(rows).to_have_count(1)
    old = rows.first.get_attribute("data-alert")
    summary = page.locator("[data-alerts-summary]")
    expect(summary).to_have_text("0 open · 1 resolved")
    page.evaluate("window.__notReloaded = true")

    _publish_temperature(cluster, 45.0)

    # the new alert is the first row, open, its text the unit's, its fired time localized
    expect(rows).to_have_count(2, timeout=LIVE)
    first = rows.first
    expect(first).to_have_attribute("data-alert-state", "open")
    expect(first.locator('[data-cell="summary"]')).to_contain_text(SUMMARY)
    expect(first.locator('[data-cell="kind"]')).to_have_text("threshold · warning")
    expect(first.locator('[data-cell="state"] .badge')).to_have_text("! open")
    expect(first.locator('[data-cell="resolved"]')).to_have_text("—")
    expect(first.locator('[data-cell="fired"] time[data-datetime]')).to_have_attribute(
        "title", re.compile(r"\(UTC\)$")
    )
    expect(rows.nth(1)).to_have_attribute("data-alert", old or "")
    expect(summary).to_have_text("1 open · 1 resolved")
    new = first.get_attribute("data-alert")
    # on a phone the added row stacks like the others: the same labels on the same cells
    for label in ("Fired", "Resolved", "Deliveries"):
        expect(first.locator(f'td[data-label="{label}"]')).to_have_count(1)
    ui.check("alerts-live-open")
    _card_shots(ui, "open")

    _publish_temperature(cluster, 30.0)
    row = page.locator(f'tr[data-alert="{new}"]')
    expect(row).to_have_attribute("data-alert-state", "resolved", timeout=LIVE)
    expect(row.locator('[data-cell="state"] .badge')).to_have_text("✓ resolved")
    expect(row.locator('[data-cell="resolved"] time[data-datetime]')).to_have_count(1)
    # resolved ones are newest first: the new one stays above the older one
    expect(rows).to_have_count(2)
    expect(rows.first).to_have_attribute("data-alert", new or "")
    expect(summary).to_have_text("0 open · 2 resolved")
    expect(page.locator("#announce")).to_contain_text(f"Alert resolved: {SUMMARY}")
    assert page.evaluate("window.__notReloaded") is True
    assert len(streams) == 1, streams
    ui.check("alerts-live-resolved")
    _card_shots(ui, "resolved")

    # what the page drew is what the server draws
    drawn = _html(ui, f'tr[data-alert="{new}"]')
    ui.goto("/alerts")
    page.wait_for_load_state("load")
    expect(page.locator("[data-alerts-summary]")).to_have_text("0 open · 2 resolved")
    assert _html(ui, f'tr[data-alert="{new}"]') == drawn


_BADGE = re.compile(
    r'<span class="badge badge-\w+" data-status="\w+"><span class="badge-shape"[^>]*>.</span> \w+</span>'
)
_ATTEMPTS = re.compile(r" · \d+ attempts?( · [^<]*)?</span></li>")


def _deliveries(ui: Watched, alert_id: str) -> str:
    """A row's deliveries, their status and attempts aside (they move on after the event that drew them)."""
    cell = f'tr[data-alert="{alert_id}"] [data-cell="deliveries"]'
    html = _ATTEMPTS.sub("</span></li>", _BADGE.sub("BADGE", _html(ui, cell)))
    # the text between a badge and its words, which the markup's comparison leaves out
    nodes = ui.page.locator(f"{cell} li").evaluate_all(
        "lis => lis.map(li => [...li.childNodes]"
        ".map(n => n.nodeType === 3 ? `'${n.textContent}'` : n.tagName))"
    )
    return f"{html} {nodes}"


def test_a_drawn_alert_lists_its_deliveries_as_the_server_does(ui: Watched, cluster: Cluster) -> None:
    from playwright.sync_api import expect

    page = ui.page
    with Webhook() as hook:
        body = {"webhooks": [{"url": hook.url, "enabled": True}], "email": None}
        assert cluster.api("PUT", "/api/alerts/channels", json=body).status_code == 200
        ui.goto("/alerts")
        page.wait_for_load_state("load")
        rows = page.locator("table[data-alerts] tbody tr[data-alert]")
        shown = rows.count()

        _publish_temperature(cluster, 45.0)
        expect(rows).to_have_count(shown + 1, timeout=LIVE)
        first = rows.first
        expect(first).to_have_attribute("data-alert-state", "open")
        delivery = first.locator("[data-delivery]")
        expect(delivery).to_have_count(1)
        expect(delivery).to_contain_text(f"fired · webhook {hook.shown}")
        expect(delivery.locator(".badge")).to_have_count(1)
        new = first.get_attribute("data-alert") or ""

        _publish_temperature(cluster, 30.0)
        row = page.locator(f'tr[data-alert="{new}"]')
        expect(row).to_have_attribute("data-alert-state", "resolved", timeout=LIVE)
        expect(row.locator("[data-delivery]")).to_have_count(2)
        expect(row.locator("[data-delivery]").nth(1)).to_contain_text(f"resolved · webhook {hook.shown}")
        ui.check("alerts-live-deliveries")
        drawn = _deliveries(ui, new)

        def delivered() -> bool:
            found = cluster.api("GET", f"/api/alerts/{new}").json()["deliveries"]
            return len(found) == 2 and all(d["status"] == "delivered" for d in found)

        wait_for(delivered, LIVE / 1000, 0.2, "both deliveries delivered")
        ui.goto("/alerts")
        page.wait_for_load_state("load")
        expect(page.locator(f'tr[data-alert="{new}"] [data-delivery] .badge')).to_have_text(
            ["✓ delivered"] * 2
        )
        assert _deliveries(ui, new) == drawn
        assert cluster.api("PUT", "/api/alerts/channels", json={"webhooks": []}).status_code == 200

"""The alerts page: an admin adds a webhook, sends a test alert and sees its delivery recorded; bad input is
refused next to its field; viewers and operators see the alerts but none of the settings' actions."""

from __future__ import annotations

import re

import pytest

from devcluster.cluster import Cluster
from tests.alert_receivers import Webhook

from .conftest import Watched

pytestmark = [pytest.mark.cluster, pytest.mark.xdist_group("ui_alerts"), pytest.mark.timeout(600)]


def test_admin_adds_a_webhook_sends_a_test_alert_and_sees_it_delivered(ui: Watched, cluster: Cluster) -> None:
    from playwright.sync_api import expect

    page = ui.page
    with Webhook() as hook:
        ui.goto("/alerts")
        expect(page.locator("h1")).to_have_text("Alerts")
        page.wait_for_load_state("load")  # the module scripts hold the forms' handlers
        # a URL that is not http(s) is refused next to its field, nothing saved
        page.get_by_label("Webhook URL").fill("ftp://example.invalid/hook")
        page.get_by_role("button", name="Add webhook").click()
        expect(page.locator("#webhook-url-error")).to_contain_text("webhooks[0].url", timeout=30_000)
        expect(page.get_by_label("Webhook URL")).to_have_attribute("aria-invalid", "true")

        page.get_by_label("Webhook URL").fill(hook.url)
        page.get_by_role("button", name="Add webhook").click()
        expect(page.locator("[data-webhooks]")).to_contain_text(hook.url, timeout=30_000)
        page.wait_for_load_state("load")

        page.get_by_role("button", name="Send a test alert").click()
        result = page.locator("[data-test-result]")
        expect(result).to_contain_text("webhook", timeout=30_000)
        expect(result.locator('[data-test-delivery="delivered"]')).to_have_count(1)
        hook.wait_for(lambda bodies: any(b["event"] == "test" for b in bodies))

        # recorded: the alert and its delivery, on the page after a reload
        ui.goto("/alerts")
        row = page.locator('[data-alert-kind="test"]').first
        expect(row).to_contain_text("Test alert from the Pioreactor leader")
        expect(row.locator("[data-delivery]")).to_contain_text("delivered")
        ui.check("alerts")
    # the browser logs the refused URL's 400 itself
    ui.errors[:] = [e for e in ui.errors if not re.search(r"status of 400", e)]


def test_a_threshold_on_an_unknown_series_is_refused_next_to_the_field(ui: Watched, cluster: Cluster) -> None:
    from playwright.sync_api import expect

    page = ui.page
    ui.goto("/alerts")
    page.wait_for_load_state("load")
    form = page.locator("form[data-threshold-form]")
    form.get_by_label("Series").fill("no_such_series")
    form.get_by_label("Value").fill("40")
    form.get_by_role("button", name="Add rule").click()
    expect(form.locator("#series-error")).to_contain_text("Unknown series 'no_such_series'", timeout=30_000)
    expect(form.get_by_label("Series")).to_have_attribute("aria-invalid", "true")
    assert cluster.api("GET", "/api/alerts/rules").json()["thresholds"] == []
    # the browser logs the refused request itself
    ui.errors[:] = [e for e in ui.errors if not re.search(r"status of 400", e)]

    form.get_by_label("Series").fill("temperature")
    form.get_by_label("Value").fill("40")
    form.get_by_label("Hold (s)").fill("30")
    form.get_by_role("button", name="Add rule").click()
    rules = page.locator("[data-thresholds]")
    expect(rules).to_contain_text("temperature > 40", timeout=30_000)
    ui.check("alerts-rules")


@pytest.mark.parametrize("role", ["viewer", "operator"])
def test_viewers_and_operators_see_alerts_but_no_settings(
    role: str, viewer_ui: Watched, operator_ui: Watched, cluster: Cluster
) -> None:
    from playwright.sync_api import expect

    watched = viewer_ui if role == "viewer" else operator_ui
    page = watched.page
    watched.goto("/alerts")
    expect(page.locator("h1")).to_have_text("Alerts")
    expect(page.locator("[data-alerts]")).to_be_visible()
    for name in ("Send a test alert", "Add webhook", "Save e-mail", "Add rule", "Save rules", "Delete"):
        expect(page.get_by_role("button", name=name)).to_have_count(0)
    expect(page.locator("[data-channels]")).to_have_count(0)
    # and /api refuses them the actions themselves
    csrf = page.locator('meta[name="csrf-token"]').get_attribute("content") or ""
    answer = page.request.post(cluster.leader_url + "/api/alerts/test", headers={"X-CSRFToken": csrf})
    assert answer.status == 403
    watched.check(f"alerts-{role}")

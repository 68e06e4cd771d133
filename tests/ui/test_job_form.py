"""The descriptor-driven start and settings forms and the unit cards' latest values, in a real browser against
a real cluster (two pio-sim agents assigned to `exp` by the fixture)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from devcluster.cluster import Cluster
from devcluster.procs import wait_for

from .conftest import SHOTS, Watched

pytestmark = [pytest.mark.cluster, pytest.mark.xdist_group("ui_cluster"), pytest.mark.timeout(600)]
UNITS = ("unit1", "unit2")


def _expect() -> Any:
    from playwright.sync_api import expect

    return expect


def _starts(cluster: Cluster) -> int:
    ops = cluster.api("GET", "/api/operations?kind=job.start&limit=100").json()["operations"]
    return len(ops)


def _open(page: Any, opener: Any, dialog: Any) -> None:
    def opened() -> bool:  # a click that lands while the page (re)loads is lost: again
        page.wait_for_load_state("load")
        if not dialog.is_visible():
            opener.click()
        return dialog.is_visible()

    wait_for(opened, 20, 0.5, "the dialog")


def test_start_with_bounds_settings_and_latest_values(operator_ui: Watched, cluster: Cluster) -> None:
    expect = _expect()
    page = operator_ui.page
    operator_ui.goto("/experiments/exp")
    stirring = page.locator('[data-job="stirring"]')
    dialog = page.get_by_role("dialog", name="Start Stirring")
    _open(page, stirring.get_by_role("button", name="Start", exact=True), dialog)

    # out of bounds: the browser refuses, naming the field, and nothing is sent
    before = _starts(cluster)
    rpm = dialog.get_by_label("Target RPM")
    expect(rpm).to_have_value("500")  # the descriptor's default
    rpm.fill("5000")
    dialog.get_by_role("button", name="Start", exact=True).click()
    summary = dialog.locator(".error-summary")
    expect(summary).to_be_visible()
    expect(summary).to_contain_text("Target RPM")
    expect(rpm).to_have_attribute("aria-invalid", "true")
    operator_ui.check("job-start-refused")
    assert _starts(cluster) == before
    # … and the server refuses the same value sent directly, naming the field
    r = cluster.api(
        "POST", "/api/experiments/exp/jobs/stirring/start", json={"options": {"target_rpm": 5000}}
    )
    assert r.status_code == 400 and "$.options.target_rpm" in r.json()["message"], r.text
    assert _starts(cluster) == before

    rpm.fill("610")
    dialog.get_by_role("button", name="Start", exact=True).click()
    expect(dialog).to_be_hidden()
    expect(stirring.locator("[data-op-progress]")).to_contain_text("job.start", timeout=30_000)
    for unit in UNITS:
        expect(stirring.locator(f'[data-unit="{unit}"]')).to_contain_text("ready", timeout=30_000)
        card = page.locator(f'[data-unit-card="{unit}"]')
        expect(card.locator('[data-setting="stirring/target_rpm"]')).to_contain_text("610", timeout=30_000)

    # settings changed while running: both cards follow
    settings = page.get_by_role("dialog", name="Change Stirring settings")
    _open(page, stirring.get_by_role("button", name="Settings"), settings)
    settings.get_by_label("Target RPM").fill("720")
    settings.get_by_role("button", name="Apply").click()
    expect(settings).to_be_hidden()
    for unit in UNITS:
        card = page.locator(f'[data-unit-card="{unit}"]')
        expect(card.locator('[data-setting="stirring/target_rpm"]')).to_contain_text("720", timeout=30_000)

    # the automation picker shows the chosen automation's fields only
    temp = page.get_by_role("dialog", name="Start Temperature automation")
    _open(
        page,
        page.locator('[data-job="temperature_automation"]').get_by_role("button", name="Start", exact=True),
        temp,
    )
    expect(temp.get_by_label("Target temperature")).to_be_visible()
    temp.get_by_label("Automation").select_option("only_record_temperature")
    expect(temp.get_by_label("Target temperature")).to_be_hidden()
    temp.get_by_label("Automation").select_option("thermostat")
    temp.get_by_label("Target temperature").fill("80")
    temp.get_by_role("button", name="Start", exact=True).click()
    expect(temp.locator(".error-summary")).to_contain_text("Target temperature")
    operator_ui.check("job-start-automation")
    page.set_viewport_size({"width": 390, "height": 844})  # the dialog itself, at a phone's width
    temp.screenshot(path=str(SHOTS / "job-start-dialog-390.png"))
    page.set_viewport_size({"width": 1440, "height": 900})
    temp.get_by_role("button", name="Cancel").click()

    # latest values with their age, live from the stream
    od = page.locator('[data-job="od_reading"]')
    od_dialog = page.get_by_role("dialog", name="Start Optical density reading")
    _open(page, od.get_by_role("button", name="Start", exact=True), od_dialog)
    od_dialog.get_by_role("button", name="Start", exact=True).click()
    for unit in UNITS:
        latest = page.locator(f'[data-unit-card="{unit}"] [data-latest="od"]')
        expect(latest.locator("[data-latest-value]")).to_have_text(re.compile(r"^\d"), timeout=30_000)
        expect(latest.locator("[data-latest-age] time")).to_be_visible()
    operator_ui.goto("/experiments/exp")  # rendered by the server too, with its sparkline
    latest = page.locator('[data-unit-card="unit1"] [data-latest="od"]')
    expect(latest.locator("[data-latest-value]")).to_have_text(re.compile(r"^\d"))
    expect(latest.locator("[data-latest-age] time")).to_have_attribute("datetime", re.compile(r"^\d{4}-"))
    expect(latest.locator("polyline")).to_have_attribute("points", re.compile(r"\d"))
    operator_ui.check("job-form-cards")
    for width in (1440, 390):
        page.set_viewport_size({"width": width, "height": 900})
        page.locator('[data-unit-card="unit1"]').screenshot(path=str(SHOTS / f"unit-card-{width}.png"))
    cluster.api("POST", "/api/experiments/exp/jobs/stop?wait=25", json={})

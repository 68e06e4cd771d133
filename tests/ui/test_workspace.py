"""The experiment workspace in a real browser against a real cluster (two pio-sim agents)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from devcluster.cluster import Cluster

from .conftest import Watched

pytestmark = [pytest.mark.cluster, pytest.mark.xdist_group("ui_cluster"), pytest.mark.timeout(600)]


def _expect() -> Any:
    from playwright.sync_api import expect

    return expect


def _points(ui: Watched, key: str) -> int:
    return int(ui.page.locator(f'[data-chart="{key}"]').get_attribute("data-points") or 0)


def test_create_assign_start_watch_pause_resume_and_stop(ui: Watched, cluster: Cluster) -> None:
    expect = _expect()
    page = ui.page
    ui.goto("/experiments")
    page.get_by_label("Name", exact=True).fill("ws1")
    page.get_by_label("Description").fill("glucose run")
    with ui.reloads():
        page.get_by_role("button", name="Create experiment").click()
    expect(page.locator('[data-experiment="ws1"]')).to_be_visible()
    ui.check("experiments")
    page.get_by_role("link", name="ws1").click()
    page.wait_for_url(re.compile(r"/experiments/ws1$"))

    # both units belong to `exp`: taking each asks first and names it
    for unit in ("unit1", "unit2"):
        page.get_by_role("button", name=f"Assign {unit}").click()
        dialog = page.get_by_role("dialog", name=f"Take {unit} from exp?")
        expect(dialog).to_be_visible()
        with ui.reloads():  # the next click must land on the reloaded page, not the one going away
            dialog.get_by_role("button", name=f"Take {unit}").click()
        expect(page.locator(f'[data-unit-card="{unit}"]')).to_be_visible()

    stirring = page.locator('[data-job="stirring"]')
    stirring.get_by_role("button", name="Start", exact=True).click()
    dialog = page.get_by_role("dialog", name="Start Stirring")
    expect(dialog).to_be_visible()
    dialog.get_by_label("Target RPM").fill("420")
    dialog.get_by_role("button", name="Start", exact=True).click()
    for unit in ("unit1", "unit2"):
        expect(stirring.locator(f'[data-unit="{unit}"]')).to_contain_text("ready", timeout=30_000)
        card = page.locator(f'[data-unit-card="{unit}"]')
        expect(card.locator('[data-setting="stirring/target_rpm"]')).to_contain_text("420", timeout=30_000)

    for job in ("od_reading", "growth_rate_calculating"):
        section = page.locator(f'[data-job="{job}"]')
        section.get_by_role("button", name="Start", exact=True).click()
        page.locator(f"#start-{job}").get_by_role("button", name="Start", exact=True).click()
        expect(section.locator('[data-unit="unit1"]')).to_contain_text("ready", timeout=30_000)
    expect(page.locator('[data-chart="od"]')).not_to_have_attribute("data-points", "0", timeout=30_000)
    first = _points(ui, "od")
    grows = "n => Number(document.querySelector('[data-chart=\"od\"]').dataset.points) > n"
    page.wait_for_function(grows, arg=first, timeout=30_000)

    stirring.get_by_role("button", name="Pause").click()
    expect(stirring.locator('[data-unit="unit1"]')).to_contain_text("sleeping", timeout=30_000)
    stirring.get_by_role("button", name="Resume").click()
    expect(stirring.locator('[data-unit="unit1"]')).to_contain_text("ready", timeout=30_000)
    page.get_by_label("Record a note").fill("fed the culture")
    page.get_by_role("button", name="Record note").click()
    expect(page.locator("[data-logs]")).to_contain_text("fed the culture", timeout=30_000)
    ui.check("experiment")

    page.get_by_role("button", name="Stop all").click()
    page.get_by_role("dialog", name="Stop every job of ws1?").get_by_role("button", name="Stop all").click()
    for job in ("stirring", "od_reading"):
        expect(page.locator(f'[data-job="{job}"] [data-unit="unit2"]')).to_contain_text("off", timeout=30_000)

    page.get_by_role("button", name="End experiment").click()
    with ui.reloads(timeout=90_000):  # stops every job (waits up to 30 s), unassigns, then reloads
        page.get_by_role("dialog", name="End ws1?").get_by_role("button", name="End experiment").click()
    expect(page.locator("[data-unit-card]")).to_have_count(0, timeout=60_000)
    assert cluster.api("GET", "/api/experiments/ws1").json()["units"] == []

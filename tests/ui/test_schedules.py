"""The schedules page in a real browser: create one, see the cron preview, see it fire, its history grow."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from devcluster.cluster import Cluster
from devcluster.procs import wait_for

from .conftest import Watched

pytestmark = [pytest.mark.cluster, pytest.mark.xdist_group("ui_schedules"), pytest.mark.timeout(600)]


def _expect() -> Any:
    from playwright.sync_api import expect

    return expect


def test_cron_preview_shows_the_next_five_times_as_you_type(operator_ui: Watched, cluster: Cluster) -> None:
    expect = _expect()
    ui = operator_ui
    ui.goto("/schedules")
    ui.page.get_by_label("Trigger").select_option("cron")
    ui.page.get_by_label("Time zone").fill("Europe/Paris")
    ui.page.get_by_label("Cron expression").fill("30 7 * * 1-5")
    items = ui.page.locator("[data-preview-list] li")
    expect(items).to_have_count(5)
    for text in items.all_inner_texts():
        assert re.fullmatch(r"\d{4}-\d\d-\d\d 07:30:00[+-]\d\d:\d\d", text), text
    ui.check("schedules-new-cron")
    ui.page.get_by_label("Cron expression").fill("61 * * * *")
    expect(items.first).to_contain_text("✕")
    ui.errors[:] = [e for e in ui.errors if "400" not in e]  # the browser logs the refused preview


def test_create_a_schedule_see_it_fire_and_its_history_grow(operator_ui: Watched, cluster: Cluster) -> None:
    expect = _expect()
    ui = operator_ui
    ui.goto("/schedules")
    ui.page.get_by_label("Name").fill("stop stirring often")
    ui.page.get_by_label("Trigger").select_option("interval")
    ui.page.get_by_label("Every (seconds, at least 1)").fill("0.5")
    ui.page.get_by_label("Action").select_option("job.stop")
    ui.page.get_by_role("button", name="Create schedule").click()
    expect(ui.page.locator(".error-summary")).to_contain_text("seconds")  # below 1 s: refused, named
    ui.errors[:] = [e for e in ui.errors if "400" not in e]
    ui.page.get_by_label("Every (seconds, at least 1)").fill("1.5")
    ui.page.get_by_role("button", name="Create schedule").click()
    ui.page.wait_for_url(re.compile(r"/schedules/\d+$"))
    expect(ui.page.locator("h1")).to_contain_text("stop stirring often")
    expect(ui.page.locator("[data-next-run] time")).to_have_count(1)
    # it fires every 1.5 s in the leader worker: each reload shows more history
    firings = ui.page.locator("[data-firing]")

    def shown(at_least: int) -> bool:
        ui.page.reload()
        return firings.count() >= at_least

    wait_for(lambda: shown(1), timeout=20, interval=0.3, what="a first firing shown")
    wait_for(lambda: shown(2), timeout=20, interval=0.3, what="a second firing shown")
    expect(firings.first.locator("[data-status]")).to_have_attribute(
        "data-status", re.compile("succeeded|failed|running|queued|pending")
    )
    ui.check("schedule")
    ui.page.get_by_role("button", name="Pause").click()
    expect(ui.page.get_by_role("button", name="Resume")).to_be_visible()
    ui.goto("/schedules")
    expect(ui.page.locator("[data-schedule]")).to_contain_text("paused")
    ui.check("schedules")
    ui.page.get_by_role("button", name="Delete stop stirring often").click()
    ui.page.get_by_role("dialog").get_by_role("button", name="Delete").click()
    expect(ui.page.locator("[data-schedule]")).to_have_count(0)


def test_run_now_and_edit_on_the_schedule_page(operator_ui: Watched, cluster: Cluster) -> None:
    expect = _expect()
    ui = operator_ui
    body = {
        "name": "new year stop",
        "trigger": {"type": "cron", "expression": "0 0 1 1 *"},  # far away: only "Run now" fires it
        "action": {"kind": "job.stop", "experiment": "exp", "job": "stirring"},
    }
    r = cluster.api("POST", "/api/schedules", json=body)
    assert r.status_code == 201, r.text
    schedule_id = r.json()["id"]
    ui.goto(f"/schedules/{schedule_id}")
    expect(ui.page.locator("[data-firing]")).to_have_count(0)
    with ui.reloads():
        ui.page.get_by_role("button", name="Run now").click()
    expect(ui.page.locator("[data-firing]")).to_have_count(1)
    expect(ui.page.locator("[data-firing]").first).to_contain_text("run now")
    ui.page.get_by_label("Name").fill("new year stop, renamed")
    ui.page.get_by_label("Cron expression").fill("0 6 * * 0")  # Sundays at 06:00 (0 is Sunday)
    ui.page.get_by_role("button", name="Save changes").click()
    expect(ui.page.locator("h1")).to_contain_text("new year stop, renamed")
    saved = cluster.api("GET", f"/api/schedules/{schedule_id}").json()
    assert saved["name"] == "new year stop, renamed" and saved["trigger"]["expression"] == "0 6 * * 0"
    due = datetime.fromisoformat(saved["next_run_at"].replace("Z", "+00:00"))
    lab = due.astimezone(ZoneInfo(saved["trigger"]["timezone"]))
    assert (lab.strftime("%a %H:%M"), lab.isoweekday()) == ("Sun 06:00", 7)
    assert cluster.api("DELETE", f"/api/schedules/{schedule_id}").status_code == 204

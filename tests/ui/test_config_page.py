"""/config in a browser: a deliberate error refused inline on its line, fixed, the diff reviewed, saved and
synced with a result per unit (the offline one a failed step), then a history revert; a viewer only reads."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from devcluster.cluster import Cluster
from devcluster.procs import wait_for

from .conftest import Watched

pytestmark = [pytest.mark.cluster, pytest.mark.xdist_group("ui_cluster"), pytest.mark.timeout(600)]


def _expect() -> Any:
    from playwright.sync_api import expect

    return expect


def _unit_config(cluster: Cluster, index: int) -> str:
    r = requests.get(
        cluster.agents[index].url + "/unit_api/config/config.ini",
        headers={"Authorization": f"Bearer {cluster.cluster_token}"},
        timeout=5,
    )
    r.raise_for_status()
    return str(r.json()["content"])


def test_error_fix_diff_save_sync_and_revert(ui: Watched, cluster: Cluster) -> None:
    expect = _expect()
    # the leader starts from unit1's own file (it points pio at the test broker): a sync keeps unit1 working;
    # without the broker's password (no secret in these files; the test broker takes anyone)
    base = _unit_config(cluster, 0).replace("password = raspberry", "password =").rstrip("\n") + "\n"
    assert cluster.api("PUT", "/api/config/files/config.ini", json={"content": base}).status_code == 200
    bad_line = len(base.splitlines()) + 4  # after a blank line, the header and `synced`
    broken = base + "\n[cluster_ui]\nsynced = yes\nthis line has no delimiter\napi_token = abc123\n"
    fixed = base + "\n[cluster_ui]\nsynced = yes\n"

    ui.goto("/config")
    expect(ui.page.get_by_role("link", name="Config", exact=True)).to_have_attribute("aria-current", "page")
    editor = ui.page.locator("#config-text")
    editor.fill(broken)
    problem = ui.page.locator('[data-diagnostic="bad_line"]')
    expect(problem).to_have_attribute("data-line", str(bad_line), timeout=15_000)
    expect(problem).to_contain_text(f"line {bad_line}")
    secret = ui.page.locator('[data-diagnostic="secret"]')
    expect(secret).to_have_attribute("data-line", str(bad_line + 1))
    expect(secret).to_contain_text("looks like a secret")
    expect(ui.page.locator(".ini-num-error")).to_have_text([str(bad_line), str(bad_line + 1)])
    ui.page.get_by_role("button", name="Review changes").click()
    expect(ui.page.locator("[data-config-state]")).to_contain_text("fix the 2 problems")
    expect(ui.page.locator("[data-config-review]")).to_be_hidden()
    ui.check("config-problems")

    editor.fill(fixed)
    expect(ui.page.locator("[data-diagnostics-none]")).to_be_visible(timeout=15_000)
    ui.page.get_by_role("button", name="Review changes").click()
    diff = ui.page.locator("[data-config-diff]")
    expect(diff).to_be_visible(timeout=15_000)
    expect(diff.locator(".diff-add")).to_have_text(["+", "+[cluster_ui]", "+synced = yes"])
    ui.check("config-diff")

    offline = cluster.agents[1]
    assert offline.web is not None
    offline.web.stop()
    try:
        ui.page.get_by_role("button", name="Save and sync").click()
        ui.page.wait_for_url("**/config?file=config.ini&sync=*", timeout=30_000)
        status = ui.page.locator("[data-sync-status]")
        expect(status).to_have_attribute("data-sync-status", "partial", timeout=30_000)
        unit1 = ui.page.locator('[data-sync-unit="unit1"]')
        unit2 = ui.page.locator('[data-sync-unit="unit2"]')
        expect(unit1.locator('[data-status="ok"]')).to_be_visible()
        expect(unit1).to_contain_text("wrote config.ini")
        expect(unit2.locator('[data-status="failed"]')).to_be_visible()
        expect(unit2).to_contain_text("unreachable")
        ui.check("config-synced")
    finally:
        offline.start_web()
        wait_for(offline.ready, 30, 0.1, "unit2's agent web back")
    assert _unit_config(cluster, 0) == fixed
    assert cluster.api("GET", "/api/config/files/config.ini").json()["content"] == fixed

    versions = ui.page.locator("[data-version]")
    expect(versions).to_have_count(2)
    first_id = versions.nth(1).get_attribute("data-version")
    versions.nth(0).locator("summary").click()
    expect(versions.nth(0).locator(".diff-add").last).to_have_text("+synced = yes")
    versions.nth(1).get_by_role("button", name=f"Revert to #{first_id}").click()
    ui.page.get_by_role("dialog").get_by_role("button", name="Revert").click()
    expect(versions).to_have_count(3, timeout=30_000)
    expect(versions.nth(0)).to_contain_text(f"reverted to #{first_id}")
    expect(editor).to_have_value(base)
    ui.check("config-history")
    assert cluster.api("GET", "/api/config/files/config.ini").json()["content"] == base


def test_a_viewer_reads_the_config_and_edits_nothing(viewer_ui: Watched, cluster: Cluster) -> None:
    expect = _expect()
    viewer_ui.goto("/config?file=config_unit1.ini")
    expect(viewer_ui.page.locator("#config-text")).to_have_attribute("readonly", "")
    expect(viewer_ui.page.get_by_role("button", name="Review changes")).to_have_count(0)
    expect(viewer_ui.page.get_by_text("Read only: admins edit config files.")).to_be_visible()
    viewer_ui.check("config-viewer")


def test_a_saved_file_says_not_synced_until_a_sync_writes_it(ui: Watched, cluster: Cluster) -> None:
    expect = _expect()
    base = _unit_config(cluster, 0).replace("password = raspberry", "password =").rstrip("\n") + "\n"
    content = base + "\n[cluster_ui_sync]\nsaved_not_synced = 1\n"  # (the first test added [cluster_ui])
    assert cluster.api("PUT", "/api/config/files/config.ini", json={"content": content}).status_code == 200

    ui.goto("/config")
    line = ui.page.locator("[data-config-synced]")
    mark = ui.page.locator('[data-file-synced="config.ini"]')
    expect(line.locator('[data-status="unsynced"]')).to_contain_text("not synced to 2 units")
    expect(line).to_contain_text("unit1, unit2 have not received this version from a sync yet.")
    expect(mark.locator('[data-status="unsynced"]')).to_contain_text("not synced to 2 units")
    ui.check("config-not-synced")

    ui.page.get_by_role("button", name="Sync now").click()
    ui.page.get_by_role("dialog").get_by_role("button", name="Sync", exact=True).click()
    ui.page.wait_for_url("**/config?file=config.ini&sync=*", timeout=30_000)
    expect(ui.page.locator("[data-sync-status]")).to_have_attribute("data-sync-status", "succeeded")
    # the marks follow the sync's end on this page, no reload needed
    expect(line.locator('[data-status="synced"]')).to_be_visible()
    expect(line).to_contain_text("All 2 units it goes to have this version.")
    expect(mark.locator('[data-status="synced"]')).to_be_visible()
    expect(ui.page.get_by_role("button", name="Sync now")).to_be_hidden()
    ui.check("config-synced-now")
    assert _unit_config(cluster, 0) == content

    # saved again (through the API): not synced again, on the next view
    again = content + "again = 1\n"
    assert cluster.api("PUT", "/api/config/files/config.ini", json={"content": again}).status_code == 200
    ui.goto("/config")
    expect(line.locator('[data-status="unsynced"]')).to_contain_text("not synced to 2 units")

"""The experiment lifecycle and manual actions in a real browser against a real cluster (two pio-sim
agents): add 1 mL of media, set an LED, edit, End (jobs stopped, units unassigned), delete keeping or
deleting the data, restore the archived one, and a viewer who sees no action and whose API calls are
refused."""

from __future__ import annotations

from typing import Any

import pytest

from devcluster.cluster import Cluster
from devcluster.procs import wait_for

from .conftest import Watched

pytestmark = [pytest.mark.cluster, pytest.mark.xdist_group("ui_cluster"), pytest.mark.timeout(600)]


def _expect() -> Any:
    from playwright.sync_api import expect

    return expect


def test_manual_actions_edit_and_end(operator_ui: Watched, cluster: Cluster) -> None:
    expect = _expect()
    page = operator_ui.page
    # a job to stop at the end, running (as the store knows it) before the page renders
    started = cluster.api("POST", "/api/experiments/exp/jobs/stirring/start?wait=30", json={}).json()
    assert started["operation"]["status"] == "succeeded", started

    def stirring_ready() -> bool:
        running = cluster.api("GET", "/api/experiments/exp/jobs/running").json()
        return sum(j["job_name"] == "stirring" and j["state"] == "ready" for j in running) == 2

    wait_for(stirring_ready, 30, 0.2, "stirring ready on both units")
    operator_ui.goto("/experiments/exp")
    dose = page.locator('form[data-manual="dose"]')
    dose.get_by_label("Action").select_option("add_media")
    dose.get_by_label("Amount").fill("1")
    dose.get_by_role("button", name="Run").click()
    progress = dose.locator("[data-manual-progress]")
    expect(progress).to_contain_text("succeeded: 2 of 2 units ok", timeout=30_000)
    op = cluster.api("GET", "/api/operations?kind=manual.add_media").json()["operations"][0]
    assert op["params"]["options"] == {"ml": 1.0, "source_of_event": "UI"} and op["trigger"] == "ui", op

    # too much for the vial: refused in the browser with the reason, nothing sent
    dose.get_by_label("Amount").fill("50")
    dose.get_by_role("button", name="Run").click()
    expect(dose.locator(".error-summary")).to_contain_text("safe fill volume is 18 mL")
    expect(dose.get_by_label("Amount")).to_have_attribute("aria-invalid", "true")
    assert len(cluster.api("GET", "/api/operations?kind=manual.add_media").json()["operations"]) == 1

    leds = page.locator('form[data-manual="leds"]')
    leds.get_by_label("Channel B").fill("30")
    leds.get_by_role("button", name="Set LEDs").click()
    expect(leds.locator("[data-manual-progress]")).to_contain_text("succeeded", timeout=30_000)
    operator_ui.check("experiment-manual-actions")

    page.get_by_role("button", name="Edit", exact=True).click()
    edit = page.get_by_role("dialog", name="Edit exp")
    edit.get_by_label("Description").fill("yeast in YPD")
    edit.get_by_role("button", name="Save").click()
    # the saved description shows under the title once the page has reloaded (not the dialog's own text)
    expect(page.locator(".page-head > p.muted").first).to_have_text("yeast in YPD", timeout=10_000)
    expect(edit).to_be_hidden()
    page.wait_for_load_state("load")

    stirring = page.locator('[data-job="stirring"]')
    expect(stirring.locator('[data-unit="unit1"]')).to_contain_text("ready", timeout=30_000)
    page.get_by_role("button", name="End experiment").click()
    page.get_by_role("dialog", name="End exp?").get_by_role("button", name="End experiment").click()
    expect(page.locator("[data-unit-card]")).to_have_count(0, timeout=60_000)
    assert cluster.api("GET", "/api/experiments/exp").json()["units"] == []
    end = cluster.api("GET", "/api/operations?kind=experiment.end").json()["operations"][0]
    assert end["status"] == "succeeded"
    assert {s["detail"] for s in end["steps"]} == {"stopped stirring; unassigned"}, end["steps"]


def test_delete_keeping_or_deleting_the_data(operator_ui: Watched, cluster: Cluster) -> None:
    expect = _expect()
    page = operator_ui.page
    assert (
        cluster.api("PATCH", "/api/experiments/exp", json={"description": "yeast in YPD"}).status_code == 200
    )
    for name in ("keep-me", "drop-me"):
        assert cluster.api("POST", "/api/experiments", json={"name": name}).status_code == 201
        note = {"message": f"a note in {name}"}
        assert cluster.api("POST", f"/api/experiments/{name}/logs", json=note).status_code == 201
    operator_ui.goto("/experiments")
    # create copying another experiment's settings (its description comes along)
    page.get_by_label("Name", exact=True).fill("copy-of-exp")
    page.get_by_label("Copy settings from").select_option("exp")
    page.get_by_role("button", name="Create experiment").click()
    expect(page.locator('[data-experiment="copy-of-exp"]')).to_contain_text("yeast in YPD", timeout=10_000)

    page.wait_for_load_state("load")  # the reload's scripts run before a click can count
    page.get_by_role("button", name="Delete keep-me").click()
    dialog = page.get_by_role("dialog", name="Delete keep-me?")
    expect(dialog.get_by_label("Keep its data")).to_be_checked()
    operator_ui.check("experiments-delete-dialog")
    dialog.get_by_role("button", name="Delete").click()
    row = page.locator('[data-experiment="keep-me"]')
    expect(row.locator('[data-status="archived"]')).to_be_visible(timeout=10_000)
    assert cluster.api("GET", "/api/experiments/keep-me").json()["archived_at"]
    assert cluster.api("GET", "/api/logs?experiment=keep-me").json()["logs"] != []
    again = cluster.api("POST", "/api/experiments", json={"name": "keep-me"})
    assert again.status_code == 409 and again.json()["error"] == "name_archived"

    # restored from its page: active again, its operator actions back, its name its own
    operator_ui.goto("/experiments/keep-me")
    expect(page.locator('.page-head [data-status="archived"]')).to_be_visible()
    operator_ui.check("experiment-archived")
    page.get_by_role("button", name="Restore", exact=True).click()
    expect(page.get_by_role("button", name="Edit", exact=True)).to_be_visible(timeout=10_000)
    expect(page.locator('.page-head [data-status="archived"]')).to_have_count(0)
    expect(page.get_by_role("button", name="Restore", exact=True)).to_have_count(0)
    assert cluster.api("GET", "/api/experiments/keep-me").json()["archived_at"] is None
    units = cluster.api(
        "PUT", "/api/experiments/keep-me/units", json={"units": ["unit2"], "move": True}
    ).json()
    assert units["units"] == ["unit2"], units
    page.reload()
    expect(page.locator('form[data-manual="dose"]')).to_be_visible()  # manual actions, as any live one
    operator_ui.check("experiment-restored")
    assert cluster.api("PUT", "/api/experiments/keep-me/units", json={"units": []}).status_code == 200

    operator_ui.goto("/experiments")
    page.wait_for_load_state("load")
    page.get_by_role("button", name="Delete drop-me").click()
    dialog = page.get_by_role("dialog", name="Delete drop-me?")
    dialog.get_by_label("Delete it with its data").check()
    dialog.get_by_role("button", name="Delete").click()
    expect(page.locator('[data-experiment="drop-me"]')).to_have_count(0, timeout=10_000)
    assert cluster.api("GET", "/api/experiments/drop-me").status_code == 404
    assert cluster.api("GET", "/api/logs?experiment=drop-me").json()["logs"] == []
    operator_ui.check("experiments-after-delete")
    # the same name again starts empty
    assert cluster.api("POST", "/api/experiments", json={"name": "drop-me"}).status_code == 201
    assert cluster.api("GET", "/api/logs?experiment=drop-me").json()["logs"] == []


def test_the_list_restores_and_follows_archive_and_restore_live(
    operator_ui: Watched, cluster: Cluster
) -> None:
    expect = _expect()
    page = operator_ui.page
    assert cluster.api("POST", "/api/experiments", json={"name": "shelved"}).status_code == 201
    operator_ui.goto("/experiments")
    page.wait_for_load_state("load")
    page.evaluate("window.notReloaded = true")  # gone if anything below reloaded the page
    row = page.locator('[data-experiment="shelved"]')
    expect(row.get_by_role("button", name="Delete shelved")).to_be_visible()

    # archived elsewhere (another person, a script): the row says so, with its Restore button, no reload
    assert cluster.api("DELETE", "/api/experiments/shelved?data=keep").status_code == 204
    expect(row.locator('[data-status="archived"]')).to_be_visible(timeout=15_000)
    restore = row.get_by_role("button", name="Restore shelved")
    expect(restore).to_be_visible()
    # and a new one appears as it is created
    assert cluster.api("POST", "/api/experiments", json={"name": "fresh"}).status_code == 201
    expect(page.locator('[data-experiment="fresh"]')).to_be_visible(timeout=15_000)
    assert page.evaluate("window.notReloaded === true")
    operator_ui.check("experiments-archived-row")
    # on a phone the rows stack: the row's buttons are on screen, not past a sideways scroll
    page.set_viewport_size({"width": 390, "height": 844})
    wrap = page.locator("[data-experiments-live]")
    assert wrap.evaluate("el => el.scrollWidth <= el.clientWidth"), "the list scrolls sideways at 390 px"
    box = restore.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390, box
    page.set_viewport_size({"width": 1440, "height": 900})

    # Restore on the row: the experiment's page's own button and script
    with operator_ui.reloads():
        restore.click()
    expect(row.locator('[data-status="archived"]')).to_have_count(0)
    expect(row.get_by_role("button", name="Restore shelved")).to_have_count(0)
    assert cluster.api("GET", "/api/experiments/shelved").json()["archived_at"] is None

    # archived and restored again from elsewhere: followed both ways, live
    page.evaluate("window.notReloaded = true")
    assert cluster.api("DELETE", "/api/experiments/shelved?data=keep").status_code == 204
    expect(row.get_by_role("button", name="Restore shelved")).to_be_visible(timeout=15_000)
    assert cluster.api("POST", "/api/experiments/shelved/restore").status_code == 200
    expect(row.locator('[data-status="archived"]')).to_have_count(0, timeout=15_000)
    expect(row.get_by_role("button", name="Delete shelved")).to_be_visible()
    assert page.evaluate("window.notReloaded === true")
    for name in ("shelved", "fresh"):
        assert cluster.api("DELETE", f"/api/experiments/{name}?data=delete&wait=10").status_code in (202, 204)
    expect(page.locator('[data-experiment="fresh"]')).to_have_count(0, timeout=15_000)


def test_a_viewer_sees_no_lifecycle_or_manual_action(viewer_ui: Watched, cluster: Cluster) -> None:
    expect = _expect()
    page = viewer_ui.page
    assert cluster.api("PUT", "/api/experiments/exp/units", json={"units": ["unit1"]}).status_code == 200
    led_ops = cluster.api("GET", "/api/operations?kind=manual.led_intensity").json()["operations"]
    viewer_ui.goto("/experiments/exp")
    expect(page.locator("[data-unit-card]")).to_have_count(1)
    expect(page.locator("form[data-manual]")).to_have_count(0)
    for name in ("End experiment", "Edit", "Run", "Set LEDs"):
        expect(page.get_by_role("button", name=name, exact=True)).to_have_count(0)
    viewer_ui.check("experiment-as-viewer")
    viewer_ui.goto("/experiments")
    expect(page.locator("[data-delete], [data-end]")).to_have_count(0)
    expect(page.get_by_role("button", name="Create experiment")).to_have_count(0)
    answers = page.evaluate(
        """async () => {
             const csrf = document.querySelector('meta[name="csrf-token"]').content;
             const out = [];
             for (const [method, url, body] of [
               ["POST", "/api/experiments/exp/actions/add_media", {ml: 1}],
               ["POST", "/api/experiments/exp/actions/led_intensity", {intensities: {A: 5}}],
               ["POST", "/api/experiments/exp/end", null],
               ["DELETE", "/api/experiments/keep-me?data=delete", null],
             ]) {
               const headers = {"X-CSRFToken": csrf, "Content-Type": "application/json"};
               const r = await fetch(url, {method, headers, body: body ? JSON.stringify(body) : undefined});
               out.push([r.status, (await r.json()).error]);
             }
             return out;
           }"""
    )
    assert answers == [[403, "forbidden"]] * 4, answers
    viewer_ui.errors[:] = [e for e in viewer_ui.errors if "status of 403 (FORBIDDEN)" not in e]
    ops = cluster.api("GET", "/api/operations?kind=manual.led_intensity").json()["operations"]
    assert len(ops) == len(led_ops)  # the viewer's refused request queued nothing

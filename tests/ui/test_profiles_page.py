"""The /profiles page in a browser: edit a profile with an error (its diagnostic on its line), fix it, save,
run it on the cluster, watch the plan advance live, cancel (the jobs it started stop)."""

from __future__ import annotations

from typing import Any

import pytest

from devcluster.cluster import Cluster
from devcluster.procs import wait_for

from .conftest import Watched

pytestmark = [pytest.mark.cluster, pytest.mark.xdist_group("ui_cluster"), pytest.mark.timeout(600)]

BAD = """version: "1.0"
experiment_profile_name: ui ramp
common:
  jobs:
    stirring:
      actions:
        - {type: start, t: 0s, options: {target_rpm: 350}}
        - {type: update, t: 1h30m, options: {target_rpm: 450}}
        - {type: stop, t: 1h}
"""


def _expect() -> Any:
    from playwright.sync_api import expect

    return expect


def test_edit_fix_run_watch_and_cancel_a_profile(ui: Watched, cluster: Cluster) -> None:
    expect = _expect()
    ui.goto("/profiles")
    ui.page.get_by_label("Name").fill("ui-ramp")
    ui.page.get_by_role("button", name="Open the editor").click()
    ui.page.wait_for_url("**/profiles/ui-ramp")
    editor = ui.page.locator("#yaml")
    editor.fill(BAD)
    diagnostic = ui.page.locator('[data-diagnostic="time.invalid"]')
    expect(diagnostic).to_have_attribute("data-line", "8", timeout=30_000)  # the `1h30m` line, as you type
    expect(diagnostic).to_contain_text("Invalid time literal '1h30m'")
    expect(ui.page.locator(".ini-num-error")).to_have_text(["8"])  # and marked in the editor's gutter
    ui.check("profile-diagnostics")
    editor.fill(BAD.replace("1h30m", "2s"))
    expect(ui.page.locator("[data-diagnostics-none]")).to_be_visible(timeout=30_000)
    expect(ui.page.locator(".ini-num-error")).to_have_count(0)
    with ui.reloads():  # the Run form below must be clicked on the saved page, its script listening
        ui.page.get_by_role("button", name="Save").click()
    expect(ui.page.locator("#timeline")).to_contain_text("+2 s update")
    expect(ui.page.locator("#timeline")).to_contain_text("+1 h stop")  # offsets as people read them
    assert cluster.api("GET", "/api/profiles/ui-ramp").json()["yaml"] == BAD.replace("1h30m", "2s")

    with ui.reloads():
        ui.page.locator("#run").get_by_role("button", name="Run", exact=True).click()
    run = ui.page.locator("[data-run]").first
    expect(run).to_be_visible()
    # live: the start, then the update two seconds later, each done without reloading
    plan = run.locator("[data-plan]")
    expect(plan.locator("tr", has_text="update").locator('[data-status="done"]').first).to_be_visible(
        timeout=45_000
    )
    ui.check("profile-running")
    run.get_by_role("button", name="Cancel").click()
    ui.page.get_by_role("dialog").get_by_role("button", name="Cancel the run").click()
    expect(run.locator('[data-run-status] [data-status="cancelled"]')).to_be_visible(timeout=30_000)
    expect(plan.locator("tr", has_text="stop").locator('[data-status="skipped"]').first).to_be_visible(
        timeout=30_000
    )

    def stirring_stopped() -> bool:
        jobs = cluster.api("GET", "/api/experiments/exp/jobs/running").json()
        return not [j for j in jobs if j["job_name"] == "stirring"]

    wait_for(stirring_stopped, 40, 0.2, "the run's stirring to stop")
    ui.goto("/profiles")  # the list: the saved profile, and no run in progress any more
    expect(ui.page.locator("#profiles-list")).to_contain_text("ui ramp")
    expect(ui.page.locator("#active-runs")).to_contain_text("No profile is running.")
    ui.check("profiles-list")


ELSEWHERE = """version: "1.0"
experiment_profile_name: ui elsewhere
common:
  jobs:
    stirring:
      actions:
        - {type: log, t: 0s, options: {message: "hello"}}
pioreactors:
  unit9:
    jobs:
      stirring: {actions: [{type: start, t: 0s}]}
"""


def test_a_run_naming_a_unit_not_in_the_experiment_says_so_after_starting(
    ui: Watched, cluster: Cluster
) -> None:
    expect = _expect()
    assert cluster.api("PUT", "/api/profiles/ui-elsewhere", json={"yaml": ELSEWHERE}).status_code == 201
    ui.goto("/profiles/ui-elsewhere")
    warnings = ui.page.locator("[data-answer-warnings]")
    expect(warnings).to_be_hidden()
    with ui.reloads():  # the 202's warnings outlive the reload that shows the new run
        ui.page.locator("#run").get_by_role("button", name="Dry run", exact=True).click()
    expect(warnings).to_be_visible()
    expect(warnings).to_contain_text("The last run started with warnings:")
    expect(warnings).to_contain_text(
        "unit unit9 is not assigned to experiment 'exp'; its actions are skipped for this whole run"
    )
    expect(ui.page.locator("[data-run]").first).to_be_visible()
    ui.check("profile-run-warnings")
    ui.page.reload()  # said once, after starting; not on every later visit
    expect(warnings).to_be_hidden()

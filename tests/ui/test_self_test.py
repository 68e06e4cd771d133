"""The unit page's Self-test in a real browser: an operator clicks Self-test, the checklist fills in live
(no reload) from pio-sim's real-pio topics, one check made to fail; the verdict and its time stay after a
reload, and a viewer sees the results without the button."""

from __future__ import annotations

import configparser
from typing import Any

import pytest

from devcluster.cluster import Cluster
from devcluster.procs import wait_for
from devcluster.units import unit_paths
from leader.self_test import CHECKS

from .conftest import Watched

pytestmark = [pytest.mark.cluster, pytest.mark.xdist_group("ui_cluster"), pytest.mark.timeout(600)]
UNIT = "unit2"
FAILING = "test_detect_heating_pcb"


def _expect() -> Any:
    from playwright.sync_api import expect

    return expect


def _make_a_check_fail(cluster: Cluster) -> None:
    config = unit_paths(cluster.workdir / UNIT / "unit").config
    cfg = configparser.ConfigParser(interpolation=None)
    cfg.optionxform = str  # type: ignore[assignment,method-assign]
    cfg.read(config)
    if not cfg.has_section("pio_sim"):
        cfg.add_section("pio_sim")
    cfg["pio_sim"]["self_test_failures"] = FAILING
    with open(config, "w") as fh:
        cfg.write(fh)


def test_self_test_checklist_fills_in_live_and_stays(
    operator_ui: Watched, viewer_ui: Watched, cluster: Cluster
) -> None:
    expect = _expect()
    _make_a_check_fail(cluster)
    wait_for(
        lambda: cluster.api("GET", f"/api/units/{UNIT}").json()["presence"] == "online", 30, what="online"
    )
    page = operator_ui.page
    operator_ui.goto(f"/units/{UNIT}")
    card = page.locator("#self-test")
    expect(card.locator("[data-self-test]")).to_have_attribute("data-self-test", "never")
    page.evaluate("window.__notReloaded = true")
    card.get_by_role("button", name="Self-test").click()

    # live: some checks passed while others still wait, on the same page
    expect(card.locator("[data-self-test]")).to_have_attribute("data-self-test", "running")
    expect(card.locator("[data-self-test-verdict]")).to_contain_text(" of 11 done")
    expect(card.locator('[data-check-status="passed"]').first).to_be_visible()
    assert card.locator('[data-check-status="pending"]').count() > 0
    assert card.get_by_role("button", name="Self-test").is_disabled()
    operator_ui.check("unit-self-test-running")

    expect(card.locator("[data-self-test]")).to_have_attribute("data-self-test", "failed", timeout=60_000)
    assert page.evaluate("window.__notReloaded") is True
    expect(card.locator("[data-self-test-verdict]")).to_contain_text("1 of 11 checks failed")
    expect(card.locator(f'[data-check="{FAILING}"]')).to_have_attribute("data-check-status", "failed")
    expect(card.locator(f'[data-check="{FAILING}"]')).to_contain_text("Heating PCB is detected")
    # and why, in pio's words (its WARNING log)
    expect(card.locator(f'[data-check="{FAILING}"]')).to_contain_text("Heater PCB is not connected")
    assert card.locator('[data-check-status="passed"]').count() == len(CHECKS) - 1
    expect(card.locator("time").first).to_be_visible()
    # the page's recent operations and logs followed too, without a reload
    expect(page.locator("#unit-ops")).to_contain_text("unit.self_test", timeout=30_000)
    expect(page.locator("#unit-logs [data-logs]")).to_contain_text(
        "Heater PCB is not connected", timeout=30_000
    )
    assert page.evaluate("window.__notReloaded") is True
    operator_ui.check("unit-self-test-done")

    # later: the last results and their time are still there, for anyone
    viewer_ui.goto(f"/units/{UNIT}")
    seen = viewer_ui.page.locator("#self-test")
    expect(seen.locator("[data-self-test]")).to_have_attribute("data-self-test", "failed")
    expect(seen).to_contain_text("started")
    expect(seen).to_contain_text("finished")
    assert seen.get_by_role("button", name="Self-test").count() == 0
    answer = cluster.api("GET", f"/api/units/{UNIT}/self_test").json()
    assert (answer["verdict"], answer["failed"], answer["passed"]) == ("failed", 1, len(CHECKS) - 1)

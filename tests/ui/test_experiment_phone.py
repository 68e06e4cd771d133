"""The experiment page on a phone (390 px) in a real browser against a real cluster (two pio-sim agents): a
sticky bar of links to its sections (Jobs · Units · Charts · Logs) that marks the section being read, job
sections with touch-sized buttons, compact manual-action and label forms, and nothing that scrolls
sideways; at 1440 px the bar is gone and the job sections sit side by side as before."""

from __future__ import annotations

from typing import Any

import pytest

from devcluster.cluster import Cluster

from .conftest import SHOTS, Watched

pytestmark = [pytest.mark.cluster, pytest.mark.xdist_group("ui_cluster"), pytest.mark.timeout(600)]

PHONE = {"width": 390, "height": 844}
SIDEWAYS = "el => el.scrollWidth > el.clientWidth"


def _expect() -> Any:
    from playwright.sync_api import expect

    return expect


def _current(nav: Any) -> list[str]:
    """The names of the bar's links marked as the section being read."""
    return nav.locator('a[aria-current="true"]').all_text_contents()


def _compact_forms(page: Any) -> None:
    """Manual actions and the unit cards' label forms at 390 px: fields side by side where they fit, every
    control a touch target, all of it within the screen."""
    manual = page.locator("#manual")
    # measured: 993 px tall with the forms stacked field under field, 762 px compact
    box = manual.bounding_box()
    assert box is not None and box["height"] < 800, box
    # 122 px with the input and buttons on rows of their own, 72 px with them on one row
    label_form = page.locator("[data-unit-card] form").first.bounding_box()
    assert label_form is not None and label_form["height"] < 90, label_form
    controls = page.locator(
        "#manual button, #manual input[type=number], #manual select, #manual .choice label,"
        " [data-unit-card] form input, [data-unit-card] form button"
    )
    boxes = controls.evaluate_all("els => els.map(e => e.getBoundingClientRect().toJSON())")
    assert len(boxes) >= 12, boxes
    small = [b for b in boxes if b["height"] < 44]
    assert not small, small
    outside = [b for b in boxes if b["left"] < 0 or b["right"] > 390]
    assert not outside, outside
    # the amount and its mL / seconds side by side; the LED channels two by two
    dose = page.locator('form[data-manual="dose"]')
    amount = dose.get_by_label("Amount").bounding_box()
    ml = dose.locator('label[for="dose-by-ml"]').bounding_box()
    assert amount is not None and ml is not None and abs(amount["y"] - ml["y"]) < 2, (amount, ml)
    leds = page.locator('form[data-manual="leds"]')
    tops = [leds.get_by_label(f"Channel {ch}").bounding_box()["y"] for ch in "ABCD"]
    assert tops[0] == tops[1] < tops[2] == tops[3], tops


def test_section_bar_jumps_and_nothing_scrolls_sideways(ui: Watched, cluster: Cluster) -> None:
    expect = _expect()
    page = ui.page
    for i in range(25):  # a long log to scroll past, with a message long enough to wrap on a phone
        note = {"message": f"note {i}: sampled 1 mL for plating; the culture looked turbid and even"}
        assert cluster.api("POST", "/api/experiments/exp/logs", json=note).status_code == 201
    page.set_viewport_size(PHONE)
    ui.goto("/experiments/exp")
    nav = page.get_by_role("navigation", name="Sections of this page")
    expect(nav).to_be_visible()
    expect(nav.get_by_role("link")).to_have_text(["Jobs", "Units", "Charts", "Logs"])
    # the page is long: the charts and logs start below the first screen
    expect(page.locator("[data-chart]").first).not_to_be_in_viewport()
    expect(page.locator("[data-logs]")).not_to_be_in_viewport()

    html = page.locator("html")
    assert not html.evaluate(SIDEWAYS), "the page scrolls sideways at 390 px"
    assert not page.locator("#logs .table-wrap").evaluate(SIDEWAYS), "the logs scroll sideways at 390 px"
    # touch targets: every button of a job section and every link of the bar at least 44 px tall
    heights = page.locator("[data-job] button, [data-section-nav] a").evaluate_all(
        "els => els.map(e => e.getBoundingClientRect().height)"
    )
    assert heights and min(heights) >= 44, heights
    _compact_forms(page)
    # each unit's state in its job section stays whole on screen (the hooks browser checks read)
    for unit in ("unit1", "unit2"):
        row = page.locator(f'[data-job="stirring"] [data-unit="{unit}"]')
        expect(row).to_contain_text("off")
        box = row.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390, box

    nav.get_by_role("link", name="Charts").click()
    expect(page.locator("[data-chart]").first).to_be_in_viewport()
    expect(nav).to_be_in_viewport()  # sticky: still at the top of the screen
    expect(nav.get_by_role("link", name="Charts")).to_have_attribute("aria-current", "true")
    assert _current(nav) == ["Charts"]
    page.screenshot(path=str(SHOTS / "experiment-phone-charts-390.png"))

    nav.get_by_role("link", name="Logs").click()
    expect(page.locator("[data-logs]")).to_be_in_viewport()
    expect(page.locator("[data-logs] tr").first).to_be_in_viewport()
    expect(nav.get_by_role("link", name="Logs")).to_have_attribute("aria-current", "true")
    assert _current(nav) == ["Logs"]
    page.screenshot(path=str(SHOTS / "experiment-phone-logs-390.png"))
    # the section under the bar is not hidden by it: the logs card's title shows below the bar
    bar = nav.bounding_box()
    title = page.locator("#logs-title").bounding_box()
    assert bar is not None and title is not None and title["y"] >= bar["y"] + bar["height"], (bar, title)

    nav.get_by_role("link", name="Jobs").click()
    expect(page.locator("[data-job]").first).to_be_in_viewport()
    expect(nav.get_by_role("link", name="Jobs")).to_have_attribute("aria-current", "true")

    # plain scrolling (a thumb, not the bar) moves the mark too
    page.locator("[data-unit-card]").first.evaluate("el => el.scrollIntoView({block: 'start'})")
    expect(nav.get_by_role("link", name="Units")).to_have_attribute("aria-current", "true")
    assert _current(nav) == ["Units"]
    page.evaluate("() => window.scrollTo(0, 0)")
    ui.check("experiment-phone")  # both widths, full page, axe

    # 1440 px: no bar, the job sections side by side, nothing sideways
    page.set_viewport_size({"width": 1440, "height": 900})
    expect(nav).to_be_hidden()
    tops = page.locator("[data-job]").evaluate_all("els => els.map(e => e.getBoundingClientRect().top)")
    assert len(tops) >= 4 and tops[0] == tops[1] == tops[2], tops
    assert not html.evaluate(SIDEWAYS), "the page scrolls sideways at 1440 px"
    expect(
        page.locator('[data-job="stirring"]').get_by_role("button", name="Start", exact=True)
    ).to_be_visible()
    expect(page.locator("[data-chart]").first).to_be_visible()
    expect(page.locator("[data-logs]")).to_contain_text("note 24")

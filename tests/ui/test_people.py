"""Signing in, its limit, CSRF refusal, roles in the page and the fresh-password prompt, in a real browser.

A cluster of its own: its failed sign-ins (limited per address) must not lock out the other modules' tests,
and its fresh-password window is seconds long.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from typing import Any

import pytest

from devcluster.broker import Broker
from devcluster.cluster import Cluster
from devcluster.procs import wait_for

from .conftest import OPERATOR, UNITS, Watched, watched_page

pytestmark = [pytest.mark.cluster, pytest.mark.xdist_group("ui_people"), pytest.mark.timeout(600)]

REAUTH_SECONDS = 3.0


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory, mqtt_broker: Broker) -> Iterator[Cluster]:
    settings = {
        "REAUTH_MINUTES": REAUTH_SECONDS / 60,
        "LOGIN_FAILURE_DELAY": 0.05,
        "LOGIN_FAILURES_PER_MINUTE": 3,
    }
    c = Cluster(tmp_path_factory.mktemp("ui-people"), units=1, broker=mqtt_broker, leader_settings=settings)
    c.start()
    try:
        operator = {"name": OPERATOR[0], "password": OPERATOR[1], "role": "operator"}
        assert c.api("POST", "/api/users", json=operator).status_code == 201
        assert c.api("POST", "/api/experiments", json={"name": "exp"}).status_code == 201
        assert c.api("PUT", "/api/experiments/exp/units", json={"units": UNITS[:1]}).status_code == 200
        yield c
    finally:
        c.stop()


def _expect() -> Any:
    from playwright.sync_api import expect

    return expect


def test_a_viewer_sees_but_cannot_act(viewer_ui: Watched, cluster: Cluster) -> None:
    expect = _expect()
    viewer_ui.goto("/units/unit1")
    expect(viewer_ui.page.locator("h1")).to_contain_text("unit1")
    for name in ("Reboot", "Remove", "Start"):
        expect(viewer_ui.page.get_by_role("button", name=name, exact=True)).to_have_count(0)
    viewer_ui.check("unit-as-viewer")
    # the page hides the buttons; /api decides: the viewer's own session is refused
    answer = viewer_ui.page.evaluate(
        """async () => {
             const csrf = document.querySelector('meta[name="csrf-token"]').content;
             const r = await fetch("/api/units/unit1/system/reboot", {method: "POST",
               headers: {"X-CSRFToken": csrf, "Content-Type": "application/json"}, body: "{}"});
             return [r.status, (await r.json()).error];
           }"""
    )
    assert answer == [403, "forbidden"], answer
    viewer_ui.errors.remove("Failed to load resource: the server responded with a status of 403 (FORBIDDEN)")


def test_a_form_post_with_a_wrong_csrf_token_gets_a_friendly_page(ui: Watched, cluster: Cluster) -> None:
    expect = _expect()
    ui.goto("/")
    ui.page.locator('form[action="/logout"] input[name="csrf_token"]').evaluate("i => i.value = 'forged'")
    ui.page.on("console", lambda m: None)
    ui.page.get_by_role("button", name="Sign out").click()
    expect(ui.page.locator("h1")).to_have_text("This form has expired")
    expect(ui.page.locator('[data-error="csrf_failed"]')).to_be_visible()
    ui.check("csrf-refused")
    ui.errors.clear()  # the browser logs the 400 itself
    ui.goto("/")  # still signed in: the forged post changed nothing
    expect(ui.page.get_by_role("button", name="Sign out")).to_be_visible()


def test_the_fresh_password_prompt_on_reboot(operator_ui: Watched, cluster: Cluster) -> None:
    """An admin's session older than REAUTH_MINUTES is asked for the password; a wrong one is refused."""
    expect = _expect()
    with watched_page(operator_ui.page.context.browser, cluster, "admin") as ui:
        signed_in = time.monotonic()
        ui.goto("/units/unit1")
        # let the password check age past the window (a real clock: the leader's own)
        wait_for(lambda: time.monotonic() - signed_in > REAUTH_SECONDS + 0.5, timeout=10)
        ui.page.get_by_role("button", name="Reboot").click()
        ui.page.get_by_role("dialog", name=re.compile("Reboot")).get_by_role("button", name="Reboot").click()
        prompt = ui.page.get_by_role("dialog", name="Confirm it is you")
        expect(prompt).to_be_visible()
        ui.check("reauth-prompt")
        prompt.get_by_label("Password").fill("not the password")
        prompt.get_by_role("button", name="Continue").click()
        expect(prompt.locator("[data-reauth-error]")).to_contain_text("password")
        prompt.get_by_label("Password").fill(cluster.admin_password)
        prompt.get_by_role("button", name="Continue").click()
        ui.page.wait_for_url(re.compile(r"/operations/[0-9a-f]{32}$"))
        expect(ui.page.locator("[data-operation-status]")).to_have_attribute(
            "data-operation-status", "succeeded", timeout=30_000
        )
        ui.errors[:] = [e for e in ui.errors if "403" not in e and "401" not in e]


def test_sign_in_leads_back_to_the_page_asked_for(anonymous_ui: Watched, cluster: Cluster) -> None:
    ui = anonymous_ui
    ui.goto("/units/unit1")
    ui.page.wait_for_url(re.compile(r"/login\?next="))
    ui.check("login")
    ui.page.get_by_label("User name").fill(OPERATOR[0])
    ui.page.get_by_label("Password").fill(OPERATOR[1])
    ui.page.get_by_role("button", name="Sign in").click()
    ui.page.wait_for_url(cluster.leader_url + "/units/unit1")
    _expect()(ui.page.get_by_role("button", name="Start", exact=True)).to_be_visible()


def test_login_failures_and_the_limit(anonymous_ui: Watched, cluster: Cluster) -> None:
    """Last in this module: it uses up the address's failed sign-ins for a minute."""
    expect = _expect()
    ui = anonymous_ui
    ui.goto("/operations?kind=job.start")
    ui.page.wait_for_url(re.compile(r"/login\?next="))
    ui.page.get_by_label("User name").fill(cluster.viewer_user)
    ui.page.get_by_label("Password").fill("wrong password")
    ui.page.get_by_role("button", name="Sign in").click()
    expect(ui.page.locator(".error-summary")).to_be_visible()
    expect(ui.page.locator("#password-error")).to_contain_text("Wrong user name or password")
    expect(ui.page.get_by_label("User name")).to_have_value(cluster.viewer_user)
    ui.check("login-failed")
    for _ in range(5):
        ui.page.get_by_label("Password").fill("wrong password")
        ui.page.get_by_role("button", name="Sign in").click()
        ui.page.wait_for_load_state()
        if ui.page.locator("[data-retry-after]").count():
            break
    expect(ui.page.locator("[data-retry-after]")).to_contain_text("try again in")
    expect(ui.page.locator(".error-summary")).to_contain_text("Too many failed password checks")
    ui.check("login-limited")
    # even the right password waits now
    ui.page.get_by_label("Password").fill(cluster.viewer_password)
    ui.page.get_by_role("button", name="Sign in").click()
    expect(ui.page.locator("[data-retry-after]")).to_be_visible()
    ui.errors.clear()  # the browser logs each 401/429 answer itself

"""Your tokens (/account) and the admins' People page, in a real browser, signed in through the form."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from devcluster.cluster import Cluster

from .conftest import OPERATOR, Watched

pytestmark = [pytest.mark.cluster, pytest.mark.xdist_group("ui_account"), pytest.mark.timeout(600)]


def _expect() -> Any:
    from playwright.sync_api import expect

    return expect


def test_tokens_on_the_account_page_shown_once_and_revoked(operator_ui: Watched, cluster: Cluster) -> None:
    expect = _expect()
    ui = operator_ui
    ui.goto("/account")
    ui.page.get_by_label("Name").fill("nightly export")
    ui.page.get_by_role("button", name="Create token").click()
    secret = ui.page.locator("[data-token-secret]")
    expect(secret).to_be_visible()
    token = secret.inner_text()
    ui.check("account-token-created")
    me = requests.get(
        cluster.leader_url + "/api/me", headers={"Authorization": f"Bearer {token}"}, timeout=10
    )
    assert me.status_code == 200 and me.json()["name"] == OPERATOR[0], me.text
    ui.goto("/account")
    expect(ui.page.locator("[data-token]")).to_contain_text("nightly export")
    expect(ui.page.locator("body")).not_to_contain_text(token)  # shown once, never again
    ui.check("account")
    ui.page.get_by_role("button", name="Revoke nightly export").click()
    ui.page.get_by_role("dialog").get_by_role("button", name="Revoke").click()
    expect(ui.page.locator("[data-token]")).to_have_count(0)
    me = requests.get(
        cluster.leader_url + "/api/me", headers={"Authorization": f"Bearer {token}"}, timeout=10
    )
    assert me.status_code == 401


def test_people_page_adds_a_user_changes_a_role_and_shows_the_audit(ui: Watched, cluster: Cluster) -> None:
    expect = _expect()
    ui.goto("/people")
    form = ui.page.locator("#add-user")
    form.get_by_label("Name").fill("pat")
    form.get_by_label("Password").fill("a long password 1")
    form.get_by_label("Role").select_option("operator")
    with ui.reloads():  # a click on the half-loaded page that follows would be lost
        form.get_by_role("button", name="Add user").click()
    row = ui.page.locator('[data-user="pat"]')
    expect(row).to_be_visible()
    row.get_by_label("Role of pat", exact=True).select_option("viewer")
    with ui.reloads():
        row.get_by_role("button", name="Change role of pat").click()
    expect(ui.page.locator("#audit")).to_contain_text("user.role")
    expect(ui.page.locator('[data-user="pat"] select')).to_have_value("viewer")
    assert cluster.api("GET", "/api/users/pat").json()["role"] == "viewer"
    ui.check("people")

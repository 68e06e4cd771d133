"""A Chromium page signed in to a dev cluster as its admin, for the bench and the docs' screenshot that look
at a real leader's pages. Debian's Chromium, as the UI tests use: never a downloaded browser."""

from __future__ import annotations

from typing import Any

from .cluster import Cluster

CHROMIUM = "/usr/bin/chromium"


def admin_page(playwright: Any, cluster: Cluster) -> tuple[Any, Any]:
    """(browser, page): a 1440 x 900 page signed in through the sign-in form, as a person would (the session
    cookie is the browser's own). The caller closes the browser."""
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
    page = browser.new_page(viewport={"width": 1440, "height": 900})
    page.goto(cluster.leader_url + "/login")
    page.get_by_label("User name").fill(cluster.admin_user)
    page.get_by_label("Password").fill(cluster.admin_password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(cluster.leader_url + "/")
    return browser, page

"""Browser tests: Playwright driving Debian's Chromium (never a downloaded browser) against a real cluster.

Every page a test opens fails the test on a console error or a request that leaves the leader; `check_page`
saves screenshots at 1440 and 390 px under test-artifacts/screenshots/ and runs axe-core (from npm).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from devcluster.broker import Broker
from devcluster.cluster import REPO, Cluster

CHROMIUM = Path("/usr/bin/chromium")
AXE = REPO / "node_modules/axe-core/axe.min.js"
SHOTS = REPO / "test-artifacts/screenshots"
UNITS = ["unit1", "unit2"]
OPERATOR = ("olga", "operator-password-1")


def _install_chromium() -> str | None:
    """Install Debian's chromium where missing and possible; the reason to skip otherwise."""
    if CHROMIUM.exists():
        return None
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        return f"{CHROMIUM} is missing and apt-get as root is not available to install it"
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for argv in (["apt-get", "update", "-q"], ["apt-get", "install", "-y", "-q", "chromium"]):
        done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=900, check=False)
        if done.returncode != 0:
            return f"{' '.join(argv)} failed: {done.stderr[-500:]}"
    return None if CHROMIUM.exists() else "apt-get installed chromium but /usr/bin/chromium is missing"


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    sync_api = pytest.importorskip("playwright.sync_api")
    reason = _install_chromium()
    if reason:
        pytest.skip(reason)
    if not AXE.exists():
        pytest.skip(f"{AXE} is missing: run `make install` (npm)")
    # every `expect` waits up to 30 s: pages follow live updates, and CI runs two workers on two cores
    sync_api.expect.set_options(timeout=30_000)
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory, mqtt_broker: Broker) -> Iterator[Cluster]:
    c = Cluster(tmp_path_factory.mktemp("ui"), units=len(UNITS), broker=mqtt_broker)
    c.start()
    try:
        operator = {"name": OPERATOR[0], "password": OPERATOR[1], "role": "operator"}
        assert c.api("POST", "/api/users", json=operator).status_code == 201
        assert c.api("POST", "/api/experiments", json={"name": "exp"}).status_code == 201
        assert c.api("PUT", "/api/experiments/exp/units", json={"units": UNITS}).status_code == 200
        yield c
    finally:
        c.stop()


class Watched:
    """A page whose console errors and requests leaving the leader are collected."""

    def __init__(self, page: Any, leader_url: str) -> None:
        self.page = page
        self.errors: list[str] = []
        self.outside: list[str] = []
        self.leader_url = leader_url
        page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: self.errors.append(str(e)))

        def guard(route: Any) -> None:
            if route.request.url.startswith(leader_url):
                route.continue_()
            else:
                self.outside.append(route.request.url)
                route.abort()

        page.context.route("**/*", guard)

    def goto(self, path: str) -> Any:
        return self.page.goto(self.leader_url + path)

    @contextmanager
    def reloads(self, timeout: float = 30_000) -> Iterator[None]:
        """Around a click whose answer reloads the page: returns once the new page has loaded, its scripts
        listening (a click landing on the half-loaded page would be lost; live updates need the listener)."""
        with self.page.expect_event("load", timeout=timeout):
            yield

    def axe_violations(self) -> list[dict[str, Any]]:
        # evaluated over the DevTools protocol, which the page's CSP does not govern
        self.page.evaluate(AXE.read_text() + "\n;0")
        return self.page.evaluate(
            """async () => (await axe.run(document, {resultTypes: ["violations"]})).violations
                 .filter(v => v.impact === "serious" || v.impact === "critical")
                 .map(v => ({id: v.id, help: v.help, nodes: v.nodes.map(n => n.target.join(" "))}))"""
        )

    def check(self, name: str) -> None:
        """Screenshots at 1440 and 390 px, and no serious or critical axe violation at either width."""
        SHOTS.mkdir(parents=True, exist_ok=True)
        for width, height in ((1440, 900), (390, 844)):
            self.page.set_viewport_size({"width": width, "height": height})
            self.page.screenshot(path=str(SHOTS / f"{name}-{width}.png"), full_page=True)
            violations = self.axe_violations()
            assert violations == [], f"{name} at {width}px: {violations}"
        self.page.set_viewport_size({"width": 1440, "height": 900})


def sign_in(watched: Watched, name: str, password: str) -> None:
    """Through the sign-in form, as a person would: the session cookie is the browser's own."""
    watched.goto("/login")
    watched.page.get_by_label("User name").fill(name)
    watched.page.get_by_label("Password").fill(password)
    watched.page.get_by_role("button", name="Sign in").click()
    watched.page.wait_for_url(watched.leader_url + "/")


def credentials(cluster: Cluster, role: str) -> tuple[str, str]:
    if role == "admin":
        return cluster.admin_user, cluster.admin_password
    if role == "viewer":
        return cluster.viewer_user, cluster.viewer_password
    return OPERATOR


@contextmanager
def watched_page(browser: Any, cluster: Cluster, role: str | None) -> Iterator[Watched]:
    """A browser context signed in as `role` (None: anonymous); fails on console errors, outside requests."""
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    watched = Watched(context.new_page(), cluster.leader_url)
    try:
        if role is not None:
            sign_in(watched, *credentials(cluster, role))
        yield watched
    finally:
        context.close()
    assert watched.errors == [], f"console errors: {watched.errors}"
    assert watched.outside == [], f"requests leaving the leader: {watched.outside}"


@pytest.fixture
def ui(browser: Any, cluster: Cluster) -> Iterator[Watched]:
    """Signed in as the admin."""
    with watched_page(browser, cluster, "admin") as watched:
        yield watched


@pytest.fixture
def operator_ui(browser: Any, cluster: Cluster) -> Iterator[Watched]:
    with watched_page(browser, cluster, "operator") as watched:
        yield watched


@pytest.fixture
def viewer_ui(browser: Any, cluster: Cluster) -> Iterator[Watched]:
    with watched_page(browser, cluster, "viewer") as watched:
        yield watched


@pytest.fixture
def anonymous_ui(browser: Any, cluster: Cluster) -> Iterator[Watched]:
    with watched_page(browser, cluster, None) as watched:
        yield watched

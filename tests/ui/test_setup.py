"""The first run in a browser: fresh leader → setup code → first admin → broker → SSH key → units checked →
first experiment → done → dashboard."""

from __future__ import annotations

import re
import shutil
import stat
from collections.abc import Iterator
from typing import Any

import pytest

from devcluster.broker import Broker
from devcluster.cluster import Cluster
from devcluster.procs import wait_for

from .conftest import Watched, watched_page

pytestmark = [pytest.mark.cluster, pytest.mark.xdist_group("ui_setup"), pytest.mark.timeout(600)]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory, mqtt_broker: Broker) -> Iterator[Cluster]:
    c = Cluster(tmp_path_factory.mktemp("ui-setup"), units=1, broker=mqtt_broker, people=False)
    c.start()
    try:
        yield c
    finally:
        c.stop()


def test_first_run_from_setup_code_to_dashboard(browser: Any, cluster: Cluster) -> None:
    from playwright.sync_api import expect

    assert cluster.leader_web is not None
    pattern = re.compile(r"One-time setup code: ([A-Z0-9-]+)")
    wait_for(lambda: pattern.search(cluster.leader_web.output()), 20, 0.1, "setup code")  # type: ignore[union-attr]
    code = pattern.findall(cluster.leader_web.output())[0]  # type: ignore[union-attr]
    ui: Watched
    with watched_page(browser, cluster, None) as ui:
        ui.goto("/")
        ui.page.wait_for_url(cluster.leader_url + "/setup")
        ui.check("setup")
        ui.page.get_by_label("Setup code").fill("WRONG-CODE")
        ui.page.get_by_label("Admin name").fill("boss")
        ui.page.get_by_label("Password").fill("a good password")
        ui.page.get_by_role("button", name="Create admin").click()
        expect(ui.page.locator(".error-summary")).to_contain_text("Wrong setup code")
        ui.page.get_by_label("Setup code").fill(code)
        ui.page.get_by_label("Admin name").fill("boss")
        ui.page.get_by_label("Password").fill("a good password")
        ui.page.get_by_role("button", name="Create admin").click()
        expect(ui.page.get_by_role("button", name="Finish setup")).to_be_visible()
        # the module scripts run after parsing: a click before they do would do nothing
        ui.page.wait_for_load_state("load")
        # broker reachable with the leader's own credentials
        ui.page.get_by_role("button", name="Check the broker").click()
        expect(ui.page.locator("[data-broker-result]")).to_contain_text("✓ Broker reachable", timeout=30_000)
        # the rollout's SSH key: made, shown with a copy button, rotated after a confirmation
        step = ui.page.locator('[data-setup-step="ssh-key"]')
        if shutil.which("ssh-keygen"):
            step.get_by_role("button", name="Generate key").click()
            expect(step.get_by_label("Public key")).to_have_value(
                re.compile(r"^ssh-ed25519 \S+ "), timeout=30_000
            )
            expect(step.get_by_role("button", name="Copy public key")).to_be_visible()
            first = step.locator("[data-key-fingerprint]").inner_text()
            private = cluster.leader_dir / "rollout_ssh/id_ed25519"
            assert stat.S_IMODE(private.stat().st_mode) == 0o600
            served = ui.page.request.get(cluster.leader_url + "/api/setup/ssh_key").text()
            assert "PRIVATE KEY" not in served and "ssh-ed25519" in served
            step.get_by_role("button", name="Rotate key").click()
            ui.page.get_by_role("dialog").get_by_role("button", name="Rotate").click()
            expect(step.locator("[data-key-result]")).to_contain_text("Key rotated", timeout=30_000)
            assert step.locator("[data-key-fingerprint]").inner_text() != first
        # devcluster registered its agent; a unit not provisioned yet says what is missing
        ui.page.get_by_label("Unit name").fill("pio99")
        ui.page.get_by_label("Address").fill("127.0.0.1")
        ui.page.get_by_label("Agent port").fill("9")
        ui.page.get_by_role("button", name="Add unit").click()
        missing = ui.page.locator('[data-setup-unit="pio99"]')
        expect(missing).to_be_visible(timeout=30_000)
        ui.page.wait_for_load_state("load")  # the reloaded page's scripts, as above
        missing.get_by_role("button", name=re.compile("Check connection")).click()
        expect(missing.locator("[data-check-result]")).to_contain_text("✕", timeout=30_000)
        expect(missing.locator("[data-check-result]")).to_contain_text("Missing: a running agent")
        unit = ui.page.locator(f'[data-setup-unit="{cluster.agents[0].name}"]')
        unit.get_by_role("button", name=re.compile("Check connection")).click()
        expect(unit.locator("[data-check-result]")).to_contain_text(
            "Reachable, token accepted", timeout=30_000
        )
        # the inventory of these units, for deploy/ansible
        inventory = ui.page.request.get(cluster.leader_url + "/api/setup/inventory")
        assert inventory.ok and "pio99" in inventory.text() and "unit_agent_mqtt_url" in inventory.text()
        # an optional first experiment with the checked units
        ui.page.get_by_label("Experiment name").fill("a/b")
        ui.page.get_by_role("button", name="Create experiment").click()
        expect(ui.page.locator("#experiment-name-error")).to_be_visible(timeout=30_000)
        ui.page.get_by_label("Experiment name").fill("first-run")
        ui.page.get_by_role("checkbox", name="pio99").uncheck()
        ui.page.get_by_role("button", name="Create experiment").click()
        expect(ui.page.locator("[data-experiment-result]")).to_contain_text(
            f"Experiment first-run created with {cluster.agents[0].name}", timeout=30_000
        )
        ui.check("setup-units")
        ui.page.get_by_role("button", name="Finish setup").click()
        ui.page.wait_for_url(cluster.leader_url + "/")
        expect(ui.page.locator("h1")).to_have_text("Dashboard")
        # the browser logs the refused wrong code and the unreachable unit's check itself
        ui.errors[:] = [e for e in ui.errors if not re.search(r"status of (400|403|502|503|504)", e)]
    exp = cluster.api("GET", "/api/experiments/first-run").json()
    assert exp["units"] == [cluster.agents[0].name]

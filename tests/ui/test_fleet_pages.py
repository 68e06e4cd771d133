"""The units page in a real browser: fleet flags (a version mismatch, a clock off by > 2 s, a full disk)
and a plugin installed on all units from the page, through the fresh-password prompt, per-unit results live.

Its own cluster: production mode with a signed-in admin (the prompt needs a real session), plugins on.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import paho.mqtt.publish as mqtt_publish
import pytest

from cluster_schema import topics
from cluster_schema.codec import encode
from cluster_schema.fleet import AgentStatus, UnitVersions
from devcluster.broker import Broker
from devcluster.cluster import Cluster
from devcluster.procs import wait_for
from leader.db import connect
from tests.cluster.test_fleet_cluster import PLUGIN, build_plugin_wheel

from .conftest import UNITS, Watched

pytestmark = [pytest.mark.cluster, pytest.mark.xdist_group("ui_fleet"), pytest.mark.timeout(600)]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory, mqtt_broker: Broker) -> Iterator[Cluster]:
    tmp = tmp_path_factory.mktemp("ui_fleet")
    c = Cluster(
        tmp / "cluster",
        units=len(UNITS),
        broker=mqtt_broker,
        leader_settings={"PLUGINS_ENABLED": True, "OPERATION_DEADLINE": 60.0},
        agent_settings={"allow_plugins": True, "plugins_find_links": str(build_plugin_wheel(tmp))},
    )
    c.start()
    try:
        yield c
    finally:
        c.stop()


def _expect() -> Any:
    from playwright.sync_api import expect

    return expect


def _sign_in(ui: Watched, cluster: Cluster) -> None:
    ui.goto("/login")
    ui.page.get_by_label("User name").fill(cluster.admin_user)
    ui.page.get_by_label("Password").fill(cluster.admin_password)
    ui.page.get_by_role("button", name=re.compile("sign in", re.I)).click()
    ui.page.wait_for_url(re.compile(r"/($|\?)"))


def test_units_page_flags_version_mismatch_stale_clock_and_full_disk(ui: Watched, cluster: Cluster) -> None:
    expect = _expect()
    wait_for(
        lambda: all(u["versions"] for u in cluster.api("GET", "/api/units").json()),
        timeout=15,
        what="versions",
    )
    # a third unit that runs another pio, whose clock is 5 s ahead and whose disk is nearly full
    assert cluster.api("POST", "/api/units", json={"name": "odd", "port": 1}).status_code == 201
    real = cluster.api("GET", "/api/units/unit1").json()["versions"]
    ahead = datetime.now(UTC) + timedelta(seconds=5)
    status = AgentStatus(
        unit="odd",
        versions=UnitVersions(
            agent=real["agent"], pio="25.1.0", python=real["python"], schema=real["schema"]
        ),
        utc=ahead.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        disk_free_bytes=1,
        disk_total_bytes=100,
    )
    assert cluster.broker is not None
    mqtt_publish.single(
        topics.status_topic("odd"),
        encode(status),
        qos=1,
        hostname=cluster.broker.host,
        port=cluster.broker.port,
    )
    wait_for(
        lambda: (cluster.api("GET", "/api/units/odd").json()["health"] or {}).get("clock_offset_s"),
        timeout=10,
        what="the odd unit's heartbeat",
    )
    try:
        _sign_in(ui, cluster)
        ui.goto("/units")
        odd = ui.page.locator('[data-unit-card="odd"] [data-flags]')
        expect(odd).to_contain_text("pio 25.1.0, most units run 26.11.1")
        expect(odd).to_contain_text(re.compile(r"clock off by \+[45]\.\d s"))
        expect(odd).to_contain_text("disk nearly full")
        for unit in UNITS:
            expect(ui.page.locator(f'[data-unit-card="{unit}"] [data-flags]')).to_have_attribute(
                "data-flags", "0"
            )
        ui.check("units-fleet")
    finally:
        assert cluster.api("DELETE", "/api/units/odd").status_code == 204


def test_plugin_installed_on_all_units_from_the_page_after_the_password_prompt(
    ui: Watched, cluster: Cluster
) -> None:
    expect = _expect()
    _sign_in(ui, cluster)
    # the session's password check is older than REAUTH_MINUTES: the install asks for the password first
    db = connect(str(cluster.leader_dir / "leader.sqlite"))
    try:
        db.execute("UPDATE sessions SET password_checked_at = '2000-01-01T00:00:00.000Z'")
    finally:
        db.close()
    ui.goto("/units")
    form = ui.page.locator("#install-plugin")
    form.get_by_label("Plugin").fill(PLUGIN)
    form.get_by_label("Version").fill("0.1.0")
    form.get_by_role("button", name="Install on all units").click()
    dialog = ui.page.locator("#reauth-dialog")
    expect(dialog).to_be_visible()
    dialog.get_by_label("Password").fill(cluster.admin_password)
    dialog.get_by_role("button", name="Continue").click()
    ui.page.wait_for_url(re.compile(r"/operations/[0-9a-f]{32}$"))
    # the browser logs the first answer (403 reauth_required) as a failed load: that one was expected
    expected = [e for e in ui.errors if "403" in e]
    assert len(expected) == 1, ui.errors
    ui.errors.remove(expected[0])
    expect(ui.page.locator("[data-operation-status]")).to_have_attribute(
        "data-operation-status", "succeeded", timeout=60_000
    )
    for unit in UNITS:
        expect(ui.page.locator(f'[data-step="{unit}"]')).to_contain_text("ok")
    listed = cluster.api("GET", "/api/plugins").json()["units"]
    assert all({"name": PLUGIN, "version": "0.1.0"} in listed[u] for u in UNITS), listed
    op = cluster.api("POST", "/api/plugins/uninstall?wait=30", json={"name": PLUGIN}).json()["operation"]
    assert op["status"] == "succeeded", op

"""The UI in a real browser against a real cluster (leader web + worker, broker, two pio-sim agents)."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
import requests

from devcluster.cluster import Cluster
from devcluster.procs import wait_for
from leader.db import connect
from leader.db import operations as ops_db

from .conftest import SHOTS, UNITS, Watched

# the first test may install chromium with apt-get (see conftest): a generous timeout
pytestmark = [pytest.mark.cluster, pytest.mark.xdist_group("ui_cluster"), pytest.mark.timeout(600)]

EVIL = '<script>window.__pwned = 1</script><img src="x" onerror="window.__pwned = 2">'


def _expect() -> Any:
    from playwright.sync_api import expect

    return expect


def _store(cluster: Cluster) -> Any:
    return connect(str(cluster.leader_dir / "leader.sqlite"))


def _all_online(cluster: Cluster) -> bool:
    return all(u["presence"] == "online" for u in cluster.api("GET", "/api/units").json())


def test_job_started_from_the_unit_page_reaches_succeeded_live(
    operator_ui: Watched, cluster: Cluster
) -> None:
    """An operator (signed in through the form) starts a job and watches it finish."""
    ui = operator_ui
    expect = _expect()
    ui.goto("/units/unit1")
    ui.page.get_by_label("Start a job in exp").select_option("stirring")
    ui.page.get_by_role("button", name="Start", exact=True).click()
    ui.page.wait_for_url(re.compile(r"/operations/[0-9a-f]{32}$"))
    expect(ui.page.locator("[data-operation-status]")).to_have_attribute(
        "data-operation-status", "succeeded", timeout=30_000
    )
    expect(ui.page.locator('[data-step="unit1"]')).to_contain_text("ok")
    expect(ui.page.locator("[data-progress-text]")).to_have_text("1 of 1 units done")
    ui.check("operation")
    ui.goto("/units/unit1")
    expect(ui.page.locator("#jobs")).to_contain_text("stirring")
    op = cluster.api("POST", "/api/experiments/exp/jobs/stop?wait=25", json={}).json()["operation"]
    assert op["status"] == "succeeded", op


def test_unit_page_checks_confirms_and_explains_bad_input(ui: Watched, cluster: Cluster) -> None:
    expect = _expect()
    ui.goto("/units/unit1")
    ui.page.get_by_role("button", name="Check connection").click()
    expect(ui.page.locator("[data-check-result]")).to_contain_text("Reachable, token accepted")
    before = len(cluster.api("GET", "/api/operations?kind=system.reboot").json()["operations"])
    ui.page.get_by_role("button", name="Reboot").click()
    dialog = ui.page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    ui.check("unit-reboot-dialog")
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_be_hidden()
    assert len(cluster.api("GET", "/api/operations?kind=system.reboot").json()["operations"]) == before
    ui.page.get_by_role("button", name="Reboot").click()
    dialog.get_by_role("button", name="Reboot").click()  # the agents run system commands dry
    ui.page.wait_for_url(re.compile(r"/operations/[0-9a-f]{32}$"))
    expect(ui.page.locator("[data-operation-status]")).to_have_attribute(
        "data-operation-status", "succeeded", timeout=30_000
    )
    ui.goto("/units")
    ui.page.get_by_label("Name").fill("not a name!")
    ui.page.get_by_role("button", name="Add unit").click()
    summary = ui.page.locator(".error-summary")
    expect(summary).to_be_visible()
    expect(summary).to_be_focused()
    expect(ui.page.locator("#name")).to_have_attribute("aria-invalid", "true")
    expect(ui.page.locator("#name-error")).to_be_visible()
    ui.check("units-error")
    ui.errors.remove("Failed to load resource: the server responded with a status of 400 (BAD REQUEST)")


def test_retry_runs_the_units_that_did_not_finish(ui: Watched, cluster: Cluster) -> None:
    expect = _expect()
    db = _store(cluster)
    try:
        op = ops_db.create(db, "job.stop", {"experiment": "exp", "job": "stirring"}, UNITS, "api")
        ops_db.set_step(db, op.id, "unit1", "ok", "not running")
        ops_db.finish(db, op.id, "partial", "timed out")
    finally:
        db.close()
    ui.goto(f"/operations/{op.id}")
    expect(ui.page.locator("[data-operation-status]")).to_have_attribute("data-operation-status", "partial")
    ui.page.get_by_role("button", name="Retry the units that did not finish").click()
    ui.page.wait_for_url(lambda url: "/operations/" in url and op.id not in url)
    expect(ui.page.locator("[data-operation-status]")).to_have_attribute(
        "data-operation-status", "succeeded", timeout=30_000
    )
    expect(ui.page.locator("[data-step]")).to_have_count(1)
    expect(ui.page.locator('[data-step="unit2"]')).to_contain_text("ok")


def _queued_operation(cluster: Cluster) -> str:
    """An operation that stays queued: the leader worker is stopped (tests start it again)."""
    assert cluster.leader_worker is not None
    cluster.leader_worker.stop()
    r = cluster.api("POST", "/api/experiments/exp/jobs/stirring/stop", json={"units": UNITS})
    assert r.status_code == 202, r.text
    return str(r.json()["operation"]["id"])


def test_stream_resumes_after_a_cut_without_lost_or_repeated_lines(ui: Watched, cluster: Cluster) -> None:
    """The first stream is cut after its first new line; EventSource reconnects with Last-Event-ID."""
    expect = _expect()
    op_id = _queued_operation(cluster)
    requests_seen: list[dict[str, str]] = []

    def cut_first_stream(route: Any) -> None:
        requests_seen.append(route.request.all_headers())
        if len(requests_seen) > 1:
            route.continue_()
            return
        kept = []
        # the browser's own session cookie, passed through to the real stream
        cookie = {"Cookie": route.request.all_headers().get("cookie", "")}
        with requests.get(route.request.url, stream=True, timeout=60, headers=cookie) as real:
            cluster.start_leader_worker()  # the operation runs while this stream is open
            for block in _sse_blocks(real):
                kept.append(block)
                if block.startswith("id:"):  # the first line event: cut the connection after it
                    break
        route.fulfill(status=200, content_type="text/event-stream", body="retry: 200\n\n" + "".join(kept))

    ui.page.route(re.compile(r"/api/operations/[0-9a-f]+/events"), cut_first_stream)
    try:
        ui.goto(f"/operations/{op_id}")
        expect(ui.page.locator("[data-operation-status]")).to_have_attribute(
            "data-operation-status", "succeeded", timeout=30_000
        )
    finally:
        if cluster.leader_worker is None or not cluster.leader_worker.alive():
            cluster.start_leader_worker()  # the stream never opened: later tests need the worker
    db = _store(cluster)
    try:
        stored = [line.seq for line in ops_db.lines(db, op_id)]
    finally:
        db.close()
    shown = [
        int(s) for s in ui.page.locator("[data-lines] li").evaluate_all("els => els.map(e => e.dataset.seq)")
    ]
    assert shown == stored and len(stored) >= 4, (shown, stored)
    # one cut, one resume; the resume asked with no `?after` beyond the page's first line, so only the
    # browser's Last-Event-ID (which interception does not report) kept line 2 from coming twice
    assert len(requests_seen) == 2


def _sse_blocks(response: requests.Response) -> Any:
    block: list[str] = []
    for raw in response.iter_lines(decode_unicode=True):
        if raw == "":
            if block:
                yield "\n".join(block) + "\n\n"
            block = []
        else:
            block.append(raw)


def test_unit_text_renders_as_text(ui: Watched, cluster: Cluster) -> None:
    expect = _expect()
    op_id = _queued_operation(cluster)
    try:
        db = _store(cluster)
        try:
            ops_db.add_line(db, op_id, "info", f"before {EVIL}", unit="unit1")
            ops_db.set_step(db, op_id, "unit1", "pending", f"detail {EVIL}")
        finally:
            db.close()
        ui.goto(f"/operations/{op_id}")  # rendered by the server
        expect(ui.page.locator("[data-lines]")).to_contain_text(f"before {EVIL}")
        expect(ui.page.locator('[data-step="unit1"]')).to_contain_text(f"detail {EVIL}")
        db = _store(cluster)
        try:
            ops_db.add_line(db, op_id, "info", f"live {EVIL}", unit="unit2")  # arrives over SSE
        finally:
            db.close()
        expect(ui.page.locator("[data-lines]")).to_contain_text(f"live {EVIL}")
        assert ui.page.evaluate("window.__pwned") is None
        assert ui.page.locator("[data-lines] img, [data-lines] script, [data-steps] img").count() == 0
        ui.page.get_by_role("button", name="Cancel").click()
        ui.page.get_by_role("dialog").get_by_role("button", name="Cancel operation").click()
        expect(ui.page.locator("[data-operation-status]")).to_have_attribute(
            "data-operation-status", "cancelled"
        )
    finally:
        cluster.start_leader_worker()


def test_dashboard_shows_units_and_every_page_is_clean(ui: Watched, cluster: Cluster) -> None:
    expect = _expect()
    wait_for(lambda: _all_online(cluster), 30, 0.2, "units online")
    op = cluster.api("POST", "/api/experiments/exp/jobs/stop?wait=25", json={}).json()["operation"]
    assert op["status"] == "succeeded", op  # at least one operation for the history
    ui.goto("/")
    for unit in UNITS:
        row = ui.page.locator(f'[data-unit-row="{unit}"]')
        expect(row).to_contain_text("online")
        expect(row).to_contain_text("last seen")
    expect(ui.page.locator("#leader-card")).to_contain_text("free of")
    # a kind opens its history, an operation its steps
    ui.page.locator("#kinds tbody a").first.click()
    ui.page.wait_for_url(re.compile(r"/operations\?kind="))
    ui.page.locator("tbody a").first.click()
    expect(ui.page.locator("[data-operation-status]")).to_be_visible()
    expect(ui.page.locator("[data-step]").first).to_be_visible()
    ui.goto("/")
    ui.check("dashboard")
    ui.page.set_viewport_size({"width": 390, "height": 844})  # the menu folds behind a button on phones
    menu = ui.page.get_by_role("button", name="Menu")
    expect(ui.page.get_by_role("link", name="Operations", exact=True)).to_be_hidden()
    menu.click()
    expect(menu).to_have_attribute("aria-expanded", "true")
    expect(ui.page.get_by_role("link", name="Operations", exact=True)).to_be_visible()
    ui.page.set_viewport_size({"width": 1280, "height": 760})  # the README's picture
    ui.page.screenshot(path=str(SHOTS / "dashboard-readme.png"))
    ui.page.set_viewport_size({"width": 1440, "height": 900})
    for path, name in (("/units", "units"), ("/units/unit1", "unit"), ("/operations", "operations")):
        ui.goto(path)
        expect(ui.page.locator("h1")).to_be_visible()
        ui.check(name)
    response = ui.goto("/no/such/page")
    assert response.status == 404
    ui.errors.remove("Failed to load resource: the server responded with a status of 404 (NOT FOUND)")
    expect(ui.page.locator("h1")).to_have_text("Page not found")
    ui.check("not-found")


def test_a_hostile_log_line_from_a_unit_renders_as_text(ui: Watched, cluster: Cluster) -> None:
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

    expect = _expect()
    assert cluster.broker is not None
    pub = mqtt.Client(CallbackAPIVersion.VERSION2)
    pub.connect(cluster.broker.host, cluster.broker.port)
    pub.loop_start()
    try:
        message = f"hostile {EVIL}"
        payload = json.dumps({"source": "app", "task": "stirring", "level": "INFO", "message": message,
                              "timestamp": "2026-12-04T05:00:00.000Z"})  # fmt: skip
        pub.publish("pioreactor/unit1/exp/logs/app/info", payload, qos=1).wait_for_publish(5)

        def stored() -> bool:
            logs = cluster.api("GET", "/api/logs?unit=unit1&limit=20").json()["logs"]
            return any(entry["message"] == message for entry in logs)

        wait_for(stored, 20, 0.2, "the log line ingested")
    finally:
        pub.loop_stop()
        pub.disconnect()
    ui.goto("/units/unit1")
    expect(ui.page.locator("[data-logs]")).to_contain_text(message)
    assert ui.page.evaluate("window.__pwned") is None
    assert ui.page.locator("[data-logs] img, [data-logs] script").count() == 0


def test_offline_unit_shows_offline_with_last_seen_age(ui: Watched, cluster: Cluster) -> None:
    expect = _expect()
    agent = next(a for a in cluster.agents if a.name == "unit2")
    wait_for(lambda: _all_online(cluster), 30, 0.2, "units online")
    ui.goto("/")
    row = ui.page.locator('[data-unit-row="unit2"]')
    expect(row).to_contain_text("online")
    agent.stop()
    try:
        # the open dashboard follows by itself (no reload), and tells screen readers
        expect(row).to_contain_text(re.compile(r"offline|lost"), timeout=30_000)
        expect(row.locator("time[data-age]")).to_have_text(re.compile(r"ago|now"))
        expect(ui.page.locator("#announce")).to_contain_text(re.compile(r"unit2 is (offline|lost)"))
        ui.goto("/units")
        expect(ui.page.locator('[data-unit-card="unit2"]')).to_contain_text(re.compile(r"offline|lost"))
        ui.check("units-offline")
    finally:
        agent.start_web()
        agent.start_worker()
        wait_for(agent.ready, 30, 0.1, "agent unit2 back")


def test_unit_logs_read_as_blocks_on_a_phone(ui: Watched, cluster: Cluster) -> None:
    """At 390 px each log is a block (time; level, experiment, source; message) inside the card: nothing to
    scroll sideways; at 1440 px it stays a table row."""
    import time

    op = cluster.api("POST", "/api/experiments/exp/jobs/stop?wait=25", json={}).json()["operation"]
    assert op["status"] == "succeeded", op  # the unit's agent logs the task: a row to look at
    rows = ui.page.locator("#unit-logs tbody[data-logs] td.detail")
    deadline = time.monotonic() + 30
    ui.goto("/units/unit1")
    while rows.count() == 0 and time.monotonic() < deadline:
        ui.goto("/units/unit1")  # the logs are the page's own, not live: read again until the row landed
    assert rows.count() > 0
    ui.page.set_viewport_size({"width": 390, "height": 844})
    wrap = ui.page.locator("#unit-logs .table-wrap")
    assert wrap.evaluate("el => el.scrollWidth <= el.clientWidth")
    cell = rows.first.bounding_box()
    time_cell = ui.page.locator("#unit-logs tbody tr").first.locator("td").first.bounding_box()
    assert cell is not None and time_cell is not None and cell["y"] > time_cell["y"]  # the message below
    ui.page.set_viewport_size({"width": 1440, "height": 900})
    time_cell = ui.page.locator("#unit-logs tbody tr").first.locator("td").first.bounding_box()
    cell = rows.first.bounding_box()
    assert cell is not None and time_cell is not None and abs(cell["y"] - time_cell["y"]) < 2
    ui.check("unit-logs")

"""/logs (text search, live tail that holds new lines while the reader is scrolled) and the export dialog
(preview, progress, download and the zip's contents) in a real browser against a real cluster."""

from __future__ import annotations

import csv
import io
import time
import zipfile
from typing import Any

import pytest

from devcluster.cluster import Cluster

from .conftest import SHOTS, Watched

pytestmark = [pytest.mark.cluster, pytest.mark.xdist_group("ui_cluster"), pytest.mark.timeout(600)]


def _expect() -> Any:
    from playwright.sync_api import expect

    return expect


def note(cluster: Cluster, text: str, exp: str = "exp") -> None:
    r = cluster.api("POST", f"/api/experiments/{exp}/logs", json={"message": text, "unit": "unit1"})
    assert r.status_code == 201, r.text


def indexed(cluster: Cluster, word: str) -> None:
    """The worker indexes in the background: wait (with a deadline) until the API finds the word."""
    deadline = time.monotonic() + 30
    while not cluster.api("GET", "/api/logs", params={"q": word}).json()["logs"]:
        assert time.monotonic() < deadline, f"{word!r} was never indexed"
        time.sleep(0.2)


def test_search_logs_for_a_word(viewer_ui: Watched, cluster: Cluster) -> None:
    expect = _expect()
    page = viewer_ui.page
    note(cluster, "Foam seen near the <b>overflow</b> port")
    note(cluster, "Antifoam added")
    indexed(cluster, "overflow")
    viewer_ui.goto("/logs")
    page.get_by_label("Search text").fill("overflow")
    page.get_by_role("button", name="Search").click()
    rows = page.locator("[data-logs] tr")
    expect(rows).to_have_count(1, timeout=30_000)
    expect(rows.first).to_contain_text("Foam seen near the <b>overflow</b> port")  # text, never HTML
    expect(page.locator("[data-logs] b")).to_have_count(0)
    viewer_ui.check("logs-search")
    page.get_by_label("Search text").fill("nothingmatchesthis")
    page.get_by_role("button", name="Search").click()
    expect(page.locator("[data-no-logs]")).to_contain_text("No log matches")


def test_live_tail_holds_new_lines_while_reading(viewer_ui: Watched, cluster: Cluster) -> None:
    expect = _expect()
    page = viewer_ui.page
    for i in range(40):
        note(cluster, f"filler line {i}")
    viewer_ui.goto("/logs?experiment=exp")
    body = page.locator("[data-logs]")
    note(cluster, "tail arrives on top")
    expect(body.locator("tr").first).to_contain_text("tail arrives on top", timeout=30_000)
    viewer_ui.check("logs")

    page.mouse.wheel(0, 2500)  # reading further down: new lines must not move the page
    page.wait_for_function("window.scrollY > 500")
    note(cluster, "held while reading")
    button = page.locator("[data-new-lines]")
    expect(button).to_have_text("1 new line", timeout=30_000)
    expect(body).not_to_contain_text("held while reading")
    button.click()
    expect(body.locator("tr").first).to_contain_text("held while reading")
    expect(button).to_be_hidden()


def test_live_tail_is_a_stream_with_the_pages_filters(viewer_ui: Watched, cluster: Cluster) -> None:
    """A new log appears on /logs without a reload, from GET /api/logs/events (no polling of GET /api/logs),
    and only if it passes the page's filters."""
    expect = _expect()
    page = viewer_ui.page
    assert cluster.api("POST", "/api/experiments", json={"name": "tail-other"}).status_code == 201
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    viewer_ui.goto("/logs?experiment=exp&min_level=notice")
    page.evaluate("window.sameDocument = true")  # gone if the page reloads
    body = page.locator("[data-logs]")
    expect(page.locator("[data-tail-state]")).to_have_text("Live: new lines appear at the top.")
    # these do not pass the filters; the stream sends in the order logs were stored, so once the last
    # line is on the page, these were passed over
    posted = cluster.api("POST", "/api/experiments/tail-other/logs", json={"message": "another experiment"})
    assert posted.status_code == 201, posted.text
    quiet = {"message": "too quiet for the filter", "level": "info", "unit": "unit1"}
    assert cluster.api("POST", "/api/experiments/exp/logs", json=quiet).status_code == 201
    note(cluster, "streamed <i>without</i> a reload")
    first = body.locator("tr").first
    expect(first).to_contain_text("streamed <i>without</i> a reload")  # text, never HTML
    expect(first).to_contain_text("notice")
    expect(body).not_to_contain_text("another experiment")
    expect(body).not_to_contain_text("too quiet for the filter")
    assert page.evaluate("window.sameDocument") is True
    warning = {"message": "streamed warning", "level": "warning", "unit": "unit1"}
    assert cluster.api("POST", "/api/experiments/exp/logs", json=warning).status_code == 201
    expect(first).to_contain_text("streamed warning")
    streamed_badge = first.locator(".badge").evaluate("b => b.outerHTML")
    streams = [u for u in requests if "/api/logs/events?" in u]
    assert len(streams) == 1 and "experiment=exp" in streams[0] and "min_level=notice" in streams[0]
    assert "after=" in streams[0]  # from the last log the page showed
    assert not [u for u in requests if "/api/logs?" in u], requests  # no polling
    viewer_ui.check("logs-live")
    page.set_viewport_size({"width": 390, "height": 844})
    top = page.locator(".tail-bar").bounding_box()
    assert top is not None
    clip = {"x": 0, "y": top["y"] - 60, "width": 390, "height": 600}  # the newest rows, legible
    page.screenshot(path=str(SHOTS / "logs-live-rows-390.png"), clip=clip, full_page=True)
    page.set_viewport_size({"width": 1440, "height": 900})
    viewer_ui.goto("/logs?experiment=exp&min_level=notice")  # the server draws the level as the tail did
    assert first.locator(".badge").evaluate("b => b.outerHTML") == streamed_badge


def test_export_from_the_dialog_and_open_the_zip(operator_ui: Watched, cluster: Cluster) -> None:
    expect = _expect()
    page = operator_ui.page
    assert cluster.api("POST", "/api/experiments", json={"name": "Müller-β"}).status_code == 201
    note(cluster, "exported note", exp="exp")
    operator_ui.goto("/experiments")
    page.get_by_role("button", name="Export data…").click()
    dialog = page.get_by_role("dialog", name="Export data")
    expect(dialog).to_be_visible()
    dialog.get_by_label("exp", exact=True).check()
    dialog.get_by_label("Müller-β", exact=True).check()
    for name in ("settings", "job_states"):
        dialog.get_by_label(name, exact=True).uncheck()
    dialog.get_by_label("The last").check()
    dialog.get_by_role("button", name="Preview").click()
    preview = dialog.locator("[data-export-preview]")
    expect(preview.locator("caption", has_text="exp/logs.csv")).to_have_count(1, timeout=30_000)
    expect(preview.locator(".export-empty")).to_contain_text("Müller-β/logs.csv")
    expect(preview.locator("tbody tr").first).to_contain_text("unit1")  # the oldest rows come first
    operator_ui.check("export-dialog")

    dialog.get_by_role("button", name="Export", exact=True).click()
    link = dialog.get_by_role("link", name="Download the zip")
    expect(link).to_be_visible(timeout=30_000)
    expect(dialog.locator("[data-export-status]")).to_contain_text("Export ready")
    with page.expect_download() as info:
        link.click()
    download = info.value
    # the experiments in the list's order (newest first); the UTF-8 name survives Content-Disposition
    assert download.suggested_filename.startswith("Müller-β+1_"), download.suggested_filename
    assert download.suggested_filename.endswith(".zip")
    zf = zipfile.ZipFile(io.BytesIO(download.path().read_bytes()))
    names = set(zf.namelist())
    assert {"export.json", "exp/logs.csv", "Müller-β/logs.csv"} <= names
    assert not any(n.endswith(("settings.csv", "job_states.csv")) for n in names)
    rows = list(csv.reader(io.StringIO(zf.read("exp/logs.csv").decode())))
    assert rows[0][:3] == ["timestamp", "unit", "job"]
    assert any(r[5] == "exported note" for r in rows[1:])


def test_experiment_page_preselects_its_experiment(operator_ui: Watched, viewer_ui: Watched) -> None:
    expect = _expect()
    operator_ui.goto("/experiments/exp")
    head = operator_ui.page.locator(".page-head")
    head.screenshot(path=str(SHOTS / "experiment-export-button-1440.png"))  # the one line it adds there
    operator_ui.page.get_by_role("button", name="Export data…").click()
    expect(
        operator_ui.page.get_by_role("dialog", name="Export data").get_by_label("exp", exact=True)
    ).to_be_checked()
    viewer_ui.goto("/experiments/exp")
    expect(viewer_ui.page.get_by_role("button", name="Export data…")).to_have_count(0)

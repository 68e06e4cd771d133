"""The /experiments page without a browser: search, units with labels, running jobs, buttons by role."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from leader.db import changes, connect, job_states
from leader.db import tokens as tokens_db

pytestmark = pytest.mark.usefixtures("setup_done")


def test_list_shows_units_labels_running_jobs_and_searches(app: Flask, api: FlaskClient) -> None:
    for unit in ("unit1", "unit2"):
        assert api.post("/api/units", json={"name": unit}).status_code == 201
    assert (
        api.post("/api/experiments", json={"name": "ecoli", "description": "<b>glucose</b>"}).status_code
        == 201
    )
    assert api.post("/api/experiments", json={"name": "yeast"}).status_code == 201
    assert api.put("/api/experiments/ecoli/units", json={"units": ["unit1", "unit2"]}).status_code == 200
    assert api.put("/api/experiments/ecoli/units/unit1/label", json={"label": "left"}).status_code in (
        200,
        204,
    )
    db = connect(app.config["DATABASE"])
    try:
        job_states.apply_states(db, [("unit1", "ecoli", "stirring", "ready", time.time())])
        db.commit()
    finally:
        db.close()

    html = api.get("/experiments").get_data(as_text=True)
    assert 'data-experiment="ecoli"' in html and 'data-experiment="yeast"' in html
    assert "&lt;b&gt;glucose&lt;/b&gt;" in html and "<b>glucose" not in html  # descriptions are text
    assert "left" in html and "stirring" in html and "Create experiment" in html and ">Delete<" in html

    found = api.get("/experiments?q=GLUCOSE").get_data(as_text=True)
    assert 'data-experiment="ecoli"' in found and 'data-experiment="yeast"' not in found
    assert "No experiment matches" in api.get("/experiments?q=nothing").get_data(as_text=True)


def test_a_viewer_reads_and_gets_no_buttons(app: Flask, api: FlaskClient) -> None:
    assert api.post("/api/experiments", json={"name": "ecoli"}).status_code == 201
    db = connect(app.config["DATABASE"])
    try:
        viewer = tokens_db.create(db, "viewer", role="viewer").token
    finally:
        db.close()
    client = app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {viewer}"
    html = client.get("/experiments").get_data(as_text=True)
    assert 'data-experiment="ecoli"' in html
    assert "Create experiment" not in html and ">Delete<" not in html


def test_an_archived_row_has_restore_and_the_list_follows_the_cluster_stream(
    app: Flask, api: FlaskClient
) -> None:
    for name in ("kept", "live"):
        assert api.post("/api/experiments", json={"name": name}).status_code == 201
    assert api.delete("/api/experiments/kept?data=keep").status_code == 204
    html = api.get("/experiments").get_data(as_text=True)
    kept = html.split('data-experiment="kept"')[1].split("</tr>")[0]
    live = html.split('data-experiment="live"')[1].split("</tr>")[0]
    # the archived experiment page's own button (one macro), named for its row
    assert 'data-restore="/api/experiments/kept/restore"' in kept
    assert 'Restore<span class="visually-hidden"> kept</span>' in kept and "data-archived" in kept
    assert "data-restore" not in live
    # the stream it listens to starts at the change the page shows; its rows come back alone
    db = connect(app.config["DATABASE"])
    try:
        latest = changes.latest(db)
    finally:
        db.close()
    # (the page's one EventSource of /api/events is shared with the navigation: static/js/cluster_events.js)
    assert f'<meta name="cluster-events" content="/api/events?after={latest}">' in html
    assert 'data-rows="/experiments?part=rows"' in html
    assert 'data-rows="/experiments?q=ke&amp;part=rows"' in api.get("/experiments?q=ke").get_data(
        as_text=True
    )
    rows = api.get("/experiments?part=rows").get_data(as_text=True)
    assert "<tr" in rows and "<table" not in rows and "<html" not in rows and "data-restore" in rows
    assert api.post("/api/experiments/kept/restore").status_code == 200
    rows = api.get("/experiments?part=rows&q=kept").get_data(as_text=True)
    assert (
        'data-experiment="kept"' in rows
        and "data-restore" not in rows
        and 'data-experiment="live"' not in rows
    )


def test_the_experiment_page_has_the_design_hooks(app: Flask, api: FlaskClient) -> None:
    for unit in ("unit1", "unit2"):
        assert api.post("/api/units", json={"name": unit}).status_code == 201
    assert api.post("/api/experiments", json={"name": "ecoli"}).status_code == 201
    assert api.post("/api/experiments", json={"name": "other"}).status_code == 201
    assert api.put("/api/experiments/ecoli/units", json={"units": ["unit1"]}).status_code == 200
    assert api.put("/api/experiments/other/units", json={"units": ["unit2"]}).status_code == 200
    assert api.put("/api/experiments/ecoli/units/unit1/label", json={"label": "<i>left</i>"}).status_code in (
        200,
        204,
    )
    assert (
        api.post("/api/experiments/ecoli/logs", json={"message": "<script>x</script> fed"}).status_code == 201
    )
    db = connect(app.config["DATABASE"])
    try:
        job_states.apply_states(db, [("unit1", "ecoli", "stirring", "ready", time.time())])
        job_states.apply_settings(db, [("unit1", "ecoli", "stirring", "target_rpm", "420", time.time())])
        db.commit()
    finally:
        db.close()

    r = api.get("/experiments/ecoli")
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    assert b" style=" not in r.data and b"<script>x" not in r.data and "&lt;i&gt;left" in html
    stirring = html.split('data-job="stirring"')[1].split("</section>")[0]
    assert 'data-unit="unit1"' in stirring and ">ready<" in stirring
    assert ">Start<" in stirring and ">Stop<" in stirring and ">Pause<" in stirring and ">Resume<" in stirring
    od = html.split('data-job="od_reading"')[1].split("</section>")[0]
    assert ">off<" in od
    assert 'data-unit-card="unit1"' in html and ">420<" in html
    assert 'data-chart="od"' in html and 'data-points="0"' in html
    assert "data-logs" in html and "&lt;script&gt;x&lt;/script&gt; fed" in html
    assert 'id="start-stirring"' in html and 'value="500"' in html  # the descriptor's default
    assert "Take unit2 from other?" in html  # taking a unit names the experiment it leaves
    assert api.get("/experiments/nothing").status_code == 404


def test_charts_carry_the_descriptors_y_range(app: Flask, api: FlaskClient, tmp_path: Path) -> None:
    """A chart declaring y_min/y_max hands them to the browser (page attributes and /api/contrib/charts);
    one declaring neither hands none, so js/experiment_charts.js fits that axis to the data alone."""
    shutil.copytree(Path(app.config["CONTRIB_DIR"]) / "charts", tmp_path / "charts")
    (tmp_path / "charts" / "07_bare.yaml").write_text("key: bare\ntitle: Bare\nmqtt_topic: a/b\n")
    (tmp_path / "charts" / "08_upside_down.yaml").write_text(
        "key: upside\ntitle: Upside\nmqtt_topic: a/c\ny_min: 5\ny_max: 1\n"
    )
    app.config["CONTRIB_DIR"] = str(tmp_path)
    assert api.post("/api/experiments", json={"name": "ecoli"}).status_code == 201

    html = api.get("/experiments/ecoli").get_data(as_text=True)
    chart = {c.split('"', 1)[0]: c.split(">", 1)[0] for c in html.split('data-chart="')[1:]}
    assert 'data-y-min="20.0" data-y-max="45.0"' in chart["temperature"]
    assert 'data-y-min="0.0"' in chart["volume"] and 'data-y-max="18.0"' in chart["volume"]
    assert "data-y-" not in chart["bare"]
    assert "upside" not in chart  # y_min above y_max: the file is skipped, as any invalid descriptor

    described = {c["key"]: c for c in api.get("/api/contrib/charts").json}
    assert (described["temperature"]["y_min"], described["temperature"]["y_max"]) == (20, 45)
    assert described["bare"]["y_min"] is None and described["bare"]["y_max"] is None

"""The /experiments page without a browser: search, units with labels, running jobs, buttons by role."""

from __future__ import annotations

import time

import pytest
from flask import Flask
from flask.testing import FlaskClient

from leader.db import connect, job_states
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

"""The experiment page's descriptor-driven forms and unit cards' latest values, without a browser: HTML
constraints from the descriptor rules, the automation picker with each automation's fields, the settings
dialog, and each card's latest reading with its age and a sparkline (SVG, no script)."""

from __future__ import annotations

import re
import time

import pytest
from flask import Flask
from flask.testing import FlaskClient

from leader.db import connect, readings

pytestmark = pytest.mark.usefixtures("setup_done")


def _page(app: Flask, api: FlaskClient) -> str:
    for unit in ("unit1", "unit2"):
        assert api.post("/api/units", json={"name": unit}).status_code == 201
    assert api.post("/api/experiments", json={"name": "ecoli"}).status_code == 201
    assert api.put("/api/experiments/ecoli/units", json={"units": ["unit1", "unit2"]}).status_code == 200
    now = time.time()
    db = connect(app.config["DATABASE"])
    try:
        rows = [("od", "ecoli", "unit1", now - 600 + i * 60, 0.1 + i * 0.01) for i in range(10)]
        rows += [("temperature", "ecoli", "unit1", now - 30, 30.25)]
        readings.insert_many(db, rows)
        db.commit()
    finally:
        db.close()
    r = api.get("/experiments/ecoli")
    assert r.status_code == 200
    return r.get_data(as_text=True)


def _element(html: str, pattern: str) -> str:
    match = re.search(pattern, html, re.S)
    assert match, pattern
    return match.group(0)


def test_start_form_carries_the_descriptor_rules(app: Flask, api: FlaskClient) -> None:
    html = _page(app, api)
    rpm = _element(html, r'<input id="opt-stirring-target_rpm"[^>]*>')
    assert 'type="number"' in rpm and 'min="0.0"' in rpm and 'max="2000.0"' in rpm and 'value="500"' in rpm
    assert "From 0 to 2000 RPM." in html
    dosing = html.split('id="start-dosing_automation"')[1].split("</dialog>")[0]
    picker = _element(dosing, r"<select[^>]*data-automation-picker.*?</select>")
    assert ">Chemostat<" in picker and ">Turbidostat<" in picker
    assert re.search(r'value="silent"\s+selected', picker)
    chemostat = _element(dosing, r'<fieldset[^>]*data-automation="chemostat".*?</fieldset>')
    assert "hidden disabled" in chemostat  # not the default: hidden, and its inputs not sent or checked
    volume = _element(chemostat, r'<input id="opt-dosing_automation-chemostat-exchange_volume_ml"[^>]*>')
    assert "required" in volume and 'max="20.0"' in volume
    turbidostat = _element(dosing, r'<fieldset[^>]*data-automation="turbidostat".*?</fieldset>')
    assert re.search(r'<select[^>]*name="biomass_signal"', turbidostat) and ">od_fused<" in turbidostat
    assert "Advanced: config overrides for this run" in html


def test_settings_dialog_offers_the_editable_settings(app: Flask, api: FlaskClient) -> None:
    html = _page(app, api)
    stirring = html.split('data-job="stirring"')[1].split("</section>")[0]
    assert 'data-open="settings-stirring"' in stirring
    dialog = html.split('id="settings-stirring"')[1].split("</dialog>")[0]
    assert 'name="target_rpm"' in dialog and 'name="measured_rpm"' not in dialog  # read-only: not offered
    assert 'placeholder="unchanged"' in dialog and 'value="500"' not in dialog
    assert 'id="settings-growth_rate_calculating"' not in html  # nothing editable, no dialog


def test_cards_show_latest_values_with_age_and_sparkline(app: Flask, api: FlaskClient) -> None:
    html = _page(app, api)
    card = html.split('data-unit-card="unit1"')[1].split("</article>")[0]
    od = _element(card, r'<div class="latest-item" data-latest="od".*?</div>')
    assert ">0.190<" in od and "<time" in od and "data-age" in od
    assert len(re.search(r'points="([^"]*)"', od).group(1).split()) == 10  # type: ignore[union-attr]
    temperature = _element(card, r'<div class="latest-item" data-latest="temperature".*?</div>')
    assert ">30.2<" in temperature or ">30.3<" in temperature
    other = html.split('data-unit-card="unit2"')[1].split("</article>")[0]
    assert "no readings" in _element(other, r'<div class="latest-item" data-latest="od".*?</div>')
    assert "<script" not in card

"""/experiments/compare without a browser: what it hands js/compare_chart.js, its problems by parameter, and
the ticks on /experiments that lead to it."""

from __future__ import annotations

import json
import re
from html import unescape
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from leader.db import connect
from leader.db import tokens as tokens_db

pytestmark = pytest.mark.usefixtures("setup_done")


def _compared(html: str) -> list[dict[str, Any]]:
    found = re.search(r"data-compare='([^']*)'", html)
    assert found, "no chart to compare"
    return json.loads(unescape(found.group(1)))


def _problem(html: str) -> str:
    return unescape(html.split("data-compare-problem>")[1].split("</div>")[0])


def _seed(api: FlaskClient) -> None:
    assert api.post("/api/units", json={"name": "unit1"}).status_code == 201
    for name in ("ecoli", "yeast", "old run"):
        assert api.post("/api/experiments", json={"name": name}).status_code == 201
    assert api.put("/api/experiments/ecoli/units", json={"units": ["unit1"]}).status_code == 200
    assert api.put(
        "/api/experiments/ecoli/units/unit1/label", json={"label": "<b>glucose</b>"}
    ).status_code in (
        200,
        204,
    )
    assert api.delete("/api/experiments/old%20run?data=keep").status_code == 204  # archived


def test_the_page_hands_each_experiment_its_start_labels_and_readings(api: FlaskClient) -> None:
    _seed(api)
    r = api.get("/experiments/compare?e=ecoli&e=old%20run&e=ecoli&chart=growth_rate")
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    assert (
        'data-chart="growth_rate"' in html
        and 'data-points="0"' in html
        and "data-compare-problem" not in html
    )
    assert b" style=" not in r.data and "<b>glucose" not in html  # labels are data, never markup
    compared = _compared(html)
    assert [c["name"] for c in compared] == ["ecoli", "old run"]  # in the order asked, once each
    ecoli, old = compared
    assert ecoli["url"] == "/api/experiments/ecoli/time_series/growth_rate"
    assert old["url"] == "/api/experiments/old%20run/time_series/growth_rate"
    assert ecoli["labels"] == {"unit1": "<b>glucose</b>"} and ecoli["start"] and not ecoli["archived"]
    assert old["archived"] is True and "archived" in html  # archived experiments compare too
    # the chart picker keeps the experiments; no chart asked is the first descriptor's
    assert '<input type="hidden" name="e" value="old run">' in html
    assert 'data-chart="od"' in api.get("/experiments/compare?e=ecoli&e=yeast").get_data(as_text=True)


@pytest.mark.parametrize(
    ("query", "status", "words"),
    [
        ("e=ecoli&e=nothing", 404, ["'nothing'", "`e`"]),
        ("e=ecoli&e=yeast&chart=nope", 404, ["'nope'", "`chart`", "growth_rate"]),
        ("e=ecoli", 400, ["at least two", "`e`"]),
        ("e=ecoli&e=ecoli", 400, ["at least two"]),
        ("&".join(f"e=x{i}" for i in range(7)), 400, ["7 given", "6 at most", "`e`"]),
        ("e=ecoli&e=a%2Fb", 400, ["Invalid experiment name", "`e`"]),
        ("", 200, ["Choose two to six experiments"]),
    ],
)
def test_a_bad_request_says_which_parameter(
    api: FlaskClient, query: str, status: int, words: list[str]
) -> None:
    _seed(api)
    r = api.get(f"/experiments/compare?{query}")
    assert r.status_code == status
    html = r.get_data(as_text=True)
    problem = _problem(html)
    assert all(w in problem for w in words), problem
    assert "data-compare=" not in html and 'href="/experiments"' in html


def test_the_list_ticks_lead_to_the_comparison(app: Flask, api: FlaskClient) -> None:
    _seed(api)
    html = api.get("/experiments").get_data(as_text=True)
    assert '<form class="compare-form" id="compare-form" method="get" action="/experiments/compare"' in html
    for name in ("ecoli", "yeast", "old run"):
        assert f'name="e" value="{name}" form="compare-form" aria-label="Compare {name}"' in html
    rows = api.get("/experiments?part=rows").get_data(as_text=True)
    assert 'form="compare-form"' in rows  # the live rows keep their ticks
    # a viewer compares too
    db = connect(app.config["DATABASE"])
    try:
        viewer = tokens_db.create(db, "viewer", role="viewer").token
    finally:
        db.close()
    client = app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {viewer}"
    assert client.get("/experiments/compare?e=ecoli&e=yeast").status_code == 200


def test_an_experiment_named_compare_keeps_its_page(api: FlaskClient) -> None:
    assert api.post("/api/experiments", json={"name": "compare"}).status_code == 201
    assert api.post("/api/experiments", json={"name": "other"}).status_code == 201
    html = api.get("/experiments/compare").get_data(as_text=True)
    assert "data-workspace" in html and "data-compare-problem" not in html
    assert "data-compare=" in api.get("/experiments/compare?e=compare&e=other").get_data(as_text=True)

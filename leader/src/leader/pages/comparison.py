"""What `/experiments/compare` shows: 2-6 experiments (`?e=`, repeated) and one chart descriptor (`?chart=`),
checked against the store; each experiment with its start, its unit labels (ended ones too) and the URL of
its readings (GET /api/experiments/<exp>/time_series/<chart>, one request per experiment from the browser).

A bad request is a `problem` (one sentence naming the parameter) and its HTTP status, shown on the page.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from typing import Any

from flask import url_for

from cluster_schema.errors import ApiError, BadRequest, NotFound
from cluster_schema.names import check_experiment

from .. import contrib
from ..db import experiments as exp_db
from ..db import labels as labels_db

MIN_EXPERIMENTS = 2
MAX_EXPERIMENTS = 6


@dataclass
class Comparison:
    charts: list[Any]  # every chart descriptor, for the chart picker
    chart: Any = None  # the one shown
    experiments: list[dict[str, Any]] = field(default_factory=list)
    names: list[str] = field(default_factory=list)  # as asked, for the picker's hidden fields
    problem: str | None = None
    status: int = 200


def _names(asked: list[str]) -> list[str]:
    names: list[str] = []
    for name in asked:
        check_experiment(name, "e")
        if name not in names:  # the same experiment twice is one series group
            names.append(name)
    if len(names) > MAX_EXPERIMENTS:
        raise BadRequest(f"Too many experiments at `e`: {len(names)} given, {MAX_EXPERIMENTS} at most.")
    if len(names) < MIN_EXPERIMENTS:
        raise BadRequest(
            "Choose at least two experiments at `e`: tick them in the experiments list, then press Compare."
        )
    return names


def _experiment(db: sqlite3.Connection, name: str, chart: str) -> dict[str, Any]:
    try:
        exp = exp_db.get(db, name)
    except NotFound:
        raise NotFound(f"No experiment named {name!r} at `e`.") from None
    return {
        "name": exp.name,
        "start": exp.created_at,
        "archived": bool(exp.archived_at),
        "labels": {**labels_db.every(db, name), **exp.labels},
        "url": url_for("api.time_series.time_series", exp=name, series=chart),
        "page": url_for("experiments.show", exp=name),
    }


def load(db: sqlite3.Connection, asked: list[str], chart_key: str | None, contrib_dir: str) -> Comparison:
    charts = contrib.charts(contrib_dir)
    out = Comparison(charts=charts, names=asked)
    if not asked:
        out.problem = "Choose two to six experiments: tick them in the experiments list, then press Compare."
        return out
    try:
        names = _names(asked)
        key = chart_key or (charts[0].key if charts else "")
        out.chart = next((c for c in charts if c.key == key), None)
        if out.chart is None:
            known = ", ".join(c.key for c in charts) or "none"
            raise NotFound(f"Unknown chart {key!r} at `chart`: choose one of {known}.")
        out.experiments = [_experiment(db, name, key) for name in names]
        out.names = names
    except ApiError as exc:
        out.problem, out.status, out.chart, out.experiments = exc.message, exc.status, None, []
    return out

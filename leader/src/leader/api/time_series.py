"""GET /api/experiments/<exp>/time_series/<series>: readings reduced to time buckets by the store.

`<series>` is a chart descriptor's key (`/api/contrib/charts`). Query: `units` (comma-separated; default
every unit with readings), `since` / `until` (epoch seconds or ISO 8601; default the chart's lookback up
to now), `points` (buckets per unit, default 1000). Rows are `[t, avg, min, max]`, t in epoch seconds.
"""

from __future__ import annotations

import re
import time

from flask import Blueprint, Response, current_app

from cluster_schema.errors import BadRequest, NotFound
from cluster_schema.leader import TimeSeries
from cluster_schema.names import UNIT_PATTERN, check_experiment
from cluster_schema.openapi import Route

from .. import contrib
from ..auth import requires
from ..db import get_db
from ..db import readings as readings_db
from ..http import json_response, query_arg, query_int, query_time

bp = Blueprint("time_series", __name__)
# comma-separated unit names (empty items are skipped)
UNITS_PATTERN = rf"^(?:{UNIT_PATTERN[1:-1]})?(?:,(?:{UNIT_PATTERN[1:-1]})?)*$"


def _units() -> list[str]:
    raw = query_arg("units") or ""
    if len(raw) > 1000 or not re.fullmatch(UNITS_PATTERN, raw):
        raise BadRequest("Invalid `?units`: unit names separated by commas (1000 characters at most).")
    return [u for u in raw.split(",") if u]


@bp.get("/experiments/<exp>/time_series/<series>")
@requires("viewer")
def time_series(exp: str, series: str) -> Response:
    check_experiment(exp)
    chart = next((c for c in contrib.charts(current_app.config["CONTRIB_DIR"]) if c.key == series), None)
    if chart is None:
        raise NotFound(f"Unknown series `{series}`: use a chart key from /api/contrib/charts.")
    until = query_time("until", time.time())
    since = query_time("since", until - chart.lookback_hours * 3600)
    if since >= until:
        raise BadRequest("Empty range: `?since` must be before `?until`.")
    points = query_int("points", 1000, lo=1, hi=readings_db.MAX_POINTS)
    db = get_db()
    names = _units() or readings_db.units(db, series, exp)
    rows = {unit: readings_db.buckets(db, series, exp, unit, since, until, points) for unit in names}
    return json_response(TimeSeries(series=series, columns=readings_db.COLUMNS, units=rows))


ROUTES = [
    Route(
        "GET",
        "/api/experiments/<exp>/time_series/<series>",
        None,
        TimeSeries,
        summary="A chart's readings per unit in time buckets [t, avg, min, max]; also `since`, `until`",
        query={
            "units": {"type": "string", "pattern": UNITS_PATTERN, "maxLength": 1000},
            "points": {"type": "integer", "minimum": 1, "maximum": readings_db.MAX_POINTS},
        },
    )
]

"""GET /api/experiments/<exp>/time_series/<series>: readings reduced to time buckets by the store.

`<series>` is a chart descriptor's key (`/api/contrib/charts`). Query: `units` (comma-separated; default
every unit with readings), `since` / `until` (epoch seconds or ISO 8601; default the chart's lookback up
to now), `points` (buckets per unit, default 1000). Rows are `[t, avg, min, max]`, t in epoch seconds.
"""

from __future__ import annotations

import time
from datetime import datetime

from flask import Blueprint, Response, current_app, request

from cluster_schema.errors import BadRequest, NotFound
from cluster_schema.leader import TimeSeries
from cluster_schema.openapi import Route

from .. import contrib
from ..auth import requires
from ..db import get_db
from ..db import readings as readings_db
from ..http import json_response, query_int

bp = Blueprint("time_series", __name__)


def _time(name: str, default: float) -> float:
    raw = request.args.get(name)
    if not raw:
        return default
    try:
        return float(raw)
    except ValueError:
        pass
    try:
        return datetime.fromisoformat(raw).timestamp()
    except ValueError:
        raise BadRequest(f"Invalid time at `?{name}`: epoch seconds or ISO 8601.") from None


@bp.get("/experiments/<exp>/time_series/<series>")
@requires("viewer")
def time_series(exp: str, series: str) -> Response:
    chart = next((c for c in contrib.charts(current_app.config["CONTRIB_DIR"]) if c.key == series), None)
    if chart is None:
        raise NotFound(f"Unknown series `{series}`: use a chart key from /api/contrib/charts.")
    until = _time("until", time.time())
    since = _time("since", until - chart.lookback_hours * 3600)
    if since >= until:
        raise BadRequest("Empty range: `?since` must be before `?until`.")
    points = query_int("points", 1000, lo=1, hi=readings_db.MAX_POINTS)
    db = get_db()
    names = [u for u in request.args.get("units", "").split(",") if u] or readings_db.units(db, series, exp)
    rows = {unit: readings_db.buckets(db, series, exp, unit, since, until, points) for unit in names}
    return json_response(TimeSeries(series=series, columns=readings_db.COLUMNS, units=rows))


ROUTES = [
    Route(
        "GET",
        "/api/experiments/<exp>/time_series/<series>",
        None,
        TimeSeries,
        summary="A chart's readings per unit in server-side time buckets [t, avg, min, max]",
    )
]

"""GET /api/experiments/<exp>/chart_markers: what the experiment page's charts mark as vertical lines.

Job starts and stops, pump runs (dosing events) and experiment profiles' actions in [since, until]
(epoch seconds or ISO 8601; default the last 24 hours), oldest first; see `leader.db.chart_markers`.
"""

from __future__ import annotations

import time

from flask import Blueprint, Response

from cluster_schema.charts import ChartMarkers
from cluster_schema.errors import BadRequest
from cluster_schema.names import check_experiment
from cluster_schema.openapi import Route

from ..auth import requires
from ..db import chart_markers, get_db
from ..db import experiments as exp_db
from ..http import json_response, query_time

bp = Blueprint("chart_markers", __name__)
DEFAULT_HOURS = 24.0


@bp.get("/experiments/<exp>/chart_markers")
@requires("viewer")
def markers(exp: str) -> Response:
    db = get_db()
    exp_db.get(db, check_experiment(exp))  # 404 for an unknown experiment
    until = query_time("until", time.time())
    since = query_time("since", until - DEFAULT_HOURS * 3600)
    if since >= until:
        raise BadRequest("Empty range: `?since` must be before `?until`.")
    found, truncated = chart_markers.markers(db, exp, since, until)
    return json_response(ChartMarkers(markers=found, truncated=truncated))


ROUTES = [
    Route(
        "GET",
        "/api/experiments/<exp>/chart_markers",
        None,
        ChartMarkers,
        summary="Job starts/stops, pump runs and profile actions to mark on the charts; `since`, `until`",
    )
]

"""GET /api/logs: ingested logs, newest first, one keyset page at a time (see leader.db.logs)."""

from __future__ import annotations

from flask import Blueprint, Response

from cluster_schema.errors import BadRequest
from cluster_schema.leader import LogsPage
from cluster_schema.openapi import Route, enum

from ..auth import requires
from ..db import get_db
from ..db import logs as logs_db
from ..http import json_response, query_arg, query_int

bp = Blueprint("logs", __name__)


# Filters are matched, not parsed: only their length is bounded (so that a request line stays < 4 KB).
MAX_LENGTH = {"experiment": 100, "unit": 63, "job": 64, "min_level": 20, "before": 100}


def _arg(name: str) -> str | None:
    value = query_arg(name)
    if value is not None and len(value) > MAX_LENGTH[name]:
        raise BadRequest(f"Too long at `?{name}`: {MAX_LENGTH[name]} characters at most.")
    return value or None


@bp.get("/logs")
@requires("viewer")
def list_logs() -> Response:
    page = logs_db.page(
        get_db(),
        experiment=_arg("experiment"),
        unit=_arg("unit"),
        job=_arg("job"),
        min_level=_arg("min_level"),
        before=_arg("before"),
        limit=query_int("limit", 100, lo=1, hi=logs_db.MAX_LIMIT),
    )
    return json_response(page)


ROUTES = [
    Route(
        "GET",
        "/api/logs",
        None,
        LogsPage,
        summary="Logs, newest first; `before` = a page's `next` (an opaque cursor)",
        query={
            **{
                name: {"type": "string", "maxLength": MAX_LENGTH[name]}
                for name in ("experiment", "unit", "job")
            },
            "min_level": enum(logs_db.LOG_LEVELS),
            "limit": {"type": "integer", "minimum": 1, "maximum": logs_db.MAX_LIMIT},
        },
    )
]

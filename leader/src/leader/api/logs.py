"""GET /api/logs: ingested logs, newest first, one keyset page at a time (see leader.db.logs); `q` searches
their text (leader.db.log_search), `after` follows new ones (a live tail).

Every query parameter is checked before the store is read, and refused with a 400 naming it: the Route
below declares the same bounds, so the OpenAPI document says what is accepted.
"""

from __future__ import annotations

from flask import Blueprint, Response

from cluster_schema.errors import BadRequest
from cluster_schema.leader import parse_instant
from cluster_schema.log_pages import LogsAnswer
from cluster_schema.openapi import Route, enum

from ..auth import requires
from ..db import get_db
from ..db import logs as logs_db
from ..http import json_response, query_arg, query_int

bp = Blueprint("logs", __name__)


# Filters are matched, not parsed: only their length is bounded (so that a request line stays < 4 KB).
MAX_LENGTH = {
    "experiment": 100,
    "unit": 63,
    "job": 64,
    "min_level": 20,
    "before": 100,
    "after": 100,
    "since": 40,
    "until": 40,
    "q": 200,
}


def _arg(name: str) -> str | None:
    value = query_arg(name)
    if value is not None and len(value) > MAX_LENGTH[name]:
        raise BadRequest(f"Too long at `?{name}`: {MAX_LENGTH[name]} characters at most.")
    return value or None


def _ms(name: str) -> int | None:
    value = _arg(name)
    return None if value is None else int(parse_instant(value, f"?{name}").timestamp() * 1000)


@bp.get("/logs")
@requires("viewer")
def list_logs() -> Response:
    min_level = _arg("min_level")
    if min_level is not None and min_level not in logs_db.LOG_LEVELS:
        raise BadRequest(f"Invalid log level at `?min_level`: one of {', '.join(logs_db.LOG_LEVELS)}.")
    since, until = _ms("since"), _ms("until")
    q = _arg("q")
    page = logs_db.page(
        get_db(),
        experiment=_arg("experiment"),
        unit=_arg("unit"),
        job=_arg("job"),
        min_level=min_level,
        before=_arg("before"),
        after=_arg("after"),
        since_ms=since,
        until_ms=until,
        q=q if q and q.strip() else None,
        limit=query_int("limit", 100, lo=1, hi=logs_db.MAX_LIMIT),
    )
    return json_response(page)


def _text(name: str, description: str) -> dict[str, object]:
    return {"type": "string", "maxLength": MAX_LENGTH[name], "description": description}


ROUTES = [
    Route(
        "GET",
        "/api/logs",
        None,
        LogsAnswer,
        summary="Logs, newest first; `before` = a page's `next` (an opaque cursor); `after` = a page's "
        "`newest`: the logs since, oldest first (a live tail); `q`: words the message must contain",
        query={
            **{
                name: {"type": "string", "maxLength": MAX_LENGTH[name]}
                for name in ("experiment", "unit", "job")
            },
            "min_level": enum(logs_db.LOG_LEVELS),
            "before": _text("before", "the `next` of a previous page: older logs"),
            "after": _text("after", "the `newest` of a previous page: newer logs, oldest first"),
            "since": _text("since", "ISO 8601 with an offset: logs at or after"),
            "until": _text("until", "ISO 8601 with an offset: logs before"),
            "q": _text("q", 'words (all required), "a phrase", or word* for a prefix'),
            "limit": {"type": "integer", "minimum": 1, "maximum": logs_db.MAX_LIMIT},
        },
    )
]

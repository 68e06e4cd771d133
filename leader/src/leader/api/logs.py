"""GET /api/logs: ingested logs, newest first, one keyset page at a time (see leader.db.logs); `q` searches
their text (leader.db.log_search), `after` follows new ones (a live tail).

GET /api/logs/events: the live tail as server-sent events (leader.db.log_feed), with the same filters:
`log` events, each a row as GET /api/logs answers it, its `id:` the number the log got when it was stored
(commit order). `Last-Event-ID` (a reconnecting browser) or `?after=<id>` (a page handing over from what
it rendered, a script) resumes right after that log, nothing lost and nothing twice; without either the
stream starts with the logs stored from now on. Its `after` is an event id as on every stream, not the
page cursor of GET /api/logs (whose order is the logs' own time, which a late log does not follow). When
the numbers after the given id were pruned already, a `reset` event (no id) says lines were missed.

Every query parameter is checked before the store is read, and refused with a 400 naming it: the Routes
below declare the same bounds, so the OpenAPI document says what is accepted.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

from flask import Blueprint, Response

from cluster_schema.errors import BadRequest
from cluster_schema.leader import parse_instant
from cluster_schema.log_pages import LogsAnswer
from cluster_schema.openapi import Route, enum, sse_event

from .. import sse
from ..auth import requires
from ..db import get_db, log_feed, log_search
from ..db import logs as logs_db
from ..http import json_response, query_arg, query_int
from .events import EVENT_ID

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


def _filters() -> logs_db.Filters:
    """The filters both routes take, each checked (a 400 names it)."""
    min_level = _arg("min_level")
    if min_level is not None and min_level not in logs_db.LOG_LEVELS:
        raise BadRequest(f"Invalid log level at `?min_level`: one of {', '.join(logs_db.LOG_LEVELS)}.")
    since, until = _ms("since"), _ms("until")
    q = _arg("q")
    return logs_db.Filters(
        experiment=_arg("experiment"),
        unit=_arg("unit"),
        job=_arg("job"),
        min_level=min_level,
        since_ms=since,
        until_ms=until,
        q=q if q and q.strip() else None,
    )


@bp.get("/logs")
@requires("viewer")
def list_logs() -> Response:
    f = _filters()
    page = logs_db.page(
        get_db(),
        experiment=f.experiment,
        unit=f.unit,
        job=f.job,
        min_level=f.min_level,
        before=_arg("before"),
        after=_arg("after"),
        since_ms=f.since_ms,
        until_ms=f.until_ms,
        q=f.q,
        limit=query_int("limit", 100, lo=1, hi=logs_db.MAX_LIMIT),
    )
    return json_response(page)


@bp.get("/logs/events")
@requires("viewer")
def log_events() -> Response:
    f = _filters()
    # what GET /api/logs refuses only once it reads, refused here before the stream starts
    if f.since_ms is not None and f.until_ms is not None and f.since_ms >= f.until_ms:
        raise BadRequest("Empty time range: `?since` must be before `?until`.")
    if f.q is not None:
        log_search.match_expression(f.q)
    after = sse.last_event_id("an event id of this stream")
    start = log_feed.latest(get_db()) if after is None else after
    return sse.response(lambda db: _stream(db, f, start, resumed=after is not None))


def _stream(db: sqlite3.Connection, f: logs_db.Filters, after: int, *, resumed: bool) -> Iterator[str]:
    def read(cursor: int) -> tuple[list[str], int, bool]:
        found, cursor, more = log_feed.read(db, f, cursor)
        return [sse.event("log", entry, seq) for seq, entry in found], cursor, more

    reset = "logs after the given id were pruned; some lines were missed"
    yield from sse.numbered(
        read, after, oldest=log_feed.oldest(db), latest=log_feed.latest(db), resumed=resumed, reset=reset
    )


def _text(name: str, description: str) -> dict[str, object]:
    return {"type": "string", "maxLength": MAX_LENGTH[name], "description": description}


# the filters both routes take
FILTERS = {
    **{name: {"type": "string", "maxLength": MAX_LENGTH[name]} for name in ("experiment", "unit", "job")},
    "min_level": enum(logs_db.LOG_LEVELS),
    "since": _text("since", "ISO 8601 with an offset: logs at or after"),
    "until": _text("until", "ISO 8601 with an offset: logs before"),
    "q": _text("q", 'words (all required), "a phrase", or word* for a prefix'),
}
ROUTES = [
    Route(
        "GET",
        "/api/logs",
        None,
        LogsAnswer,
        summary="Logs, newest first; `before` = a page's `next` (an opaque cursor); `after` = a page's "
        "`newest`: the logs since, oldest first (a live tail); `q`: words the message must contain",
        query={
            **FILTERS,
            "before": _text("before", "the `next` of a previous page: older logs"),
            "after": _text("after", "the `newest` of a previous page: newer logs, oldest first"),
            "limit": {"type": "integer", "minimum": 1, "maximum": logs_db.MAX_LIMIT},
        },
    ),
    Route(
        "GET",
        "/api/logs/events",
        None,
        sse_event(("log", "reset")),
        summary="Server-sent events: log (a row as GET /api/logs answers it; id = the log's number in "
        "the order logs were stored; `Last-Event-ID` resumes), reset; the filters of GET /api/logs",
        query={**FILTERS, "after": EVENT_ID},
        request_headers={"Last-Event-ID": EVENT_ID},
        media_type="text/event-stream",
    ),
]

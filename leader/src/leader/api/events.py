"""GET /api/experiments/<exp>/events: the experiment's live updates as server-sent events, from the store.

Events `job_state` {"unit", "job", "state"}, `setting` {"unit", "job", "name", "value"} (value null: the
setting was cleared), `reading` {"series", "unit", "t", "value"} (t in epoch seconds, as time series
answer it), `dosing` {"unit", "t", "event", "volume_change"} (a pump run, from `dosing_events`), `log`
(a log entry) and `operation` (the operation as it is now, on each change). Every event has `id:` = its
change's sequence number; a reconnecting browser sends it back as `Last-Event-ID` and the stream resumes
right after it, nothing lost and nothing twice. Without one the stream starts with what happens from now
on (a page loads the current state through the REST reads first). When the changes after the given id
were pruned already, a `reset` event (no id) tells the page to reload that state.

GET /api/events: the same for the cluster itself: the experiments (created, archived, restored, deleted),
which the experiments list follows, and alerts (opened, resolved), which every page's navigation follows.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

from flask import Blueprint, Response

from cluster_schema.names import check_experiment
from cluster_schema.openapi import Route, sse_event

from .. import sse
from ..auth import requires
from ..db import changes, get_db
from ..db import experiments as exp_db

bp = Blueprint("events", __name__)


@bp.get("/experiments/<exp>/events")
@requires("viewer")
def experiment_events(exp: str) -> Response:
    db = get_db()
    exp_db.get(db, check_experiment(exp))  # 404 before the stream starts
    after = sse.last_event_id("an event id of this stream")
    start = changes.latest(db) if after is None else after
    return sse.response(lambda conn: _stream(conn, exp, start, resumed=after is not None))


@bp.get("/events")
@requires("viewer")
def cluster_events() -> Response:
    """The cluster's own changes, not any one experiment's: `experiment` {"name", "change": created |
    archived | restored | deleted}, for the experiments list; `alert` (the alert's answer with "state":
    open | resolved and "open_count", the number of open alerts now), for every page's navigation. Ids,
    resuming and `reset` as above."""
    db = get_db()
    after = sse.last_event_id("an event id of this stream")
    start = changes.latest(db) if after is None else after
    return sse.response(lambda conn: _stream(conn, changes.CLUSTER, start, resumed=after is not None))


def _stream(
    db: sqlite3.Connection, exp: str | tuple[str, ...], after: int, *, resumed: bool
) -> Iterator[str]:
    def read(cursor: int) -> tuple[list[str], int, bool]:
        found, cursor, more = changes.events(db, exp, cursor)
        return [sse.event(e.name, e.data, e.seq) for e in found], cursor, more

    reset = "events after the given id were pruned; reload the current state"
    yield from sse.numbered(
        read, after, oldest=changes.oldest(db), latest=changes.latest(db), resumed=resumed, reset=reset
    )


EVENT_ID = {"type": "integer", "minimum": 0, "maximum": 10**18 - 1, "description": "resume after this event"}
ROUTES = [
    Route(
        "GET",
        "/api/experiments/<exp>/events",
        None,
        sse_event(("job_state", "setting", "reading", "dosing", "log", "operation", "reset")),
        summary="Server-sent events: job_state, setting, reading, dosing, log, operation "
        "(id = change sequence; `Last-Event-ID` resumes), reset",
        query={"after": EVENT_ID},
        request_headers={"Last-Event-ID": EVENT_ID},
        media_type="text/event-stream",
    ),
    Route(
        "GET",
        "/api/events",
        None,
        sse_event(("experiment", "alert", "reset")),
        summary="Server-sent events of the cluster: experiment {name, change: created|archived|restored|"
        "deleted}, alert (the alert's answer + state: open|resolved, open_count) (id = change sequence; "
        "`Last-Event-ID` resumes), reset",
        query={"after": EVENT_ID},
        request_headers={"Last-Event-ID": EVENT_ID},
        media_type="text/event-stream",
    ),
]

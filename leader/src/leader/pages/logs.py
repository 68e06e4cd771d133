"""`/logs`: every experiment's logs with filters (experiment, unit, job, level, time range in the lab's zone)
and text search, one keyset page at a time ("Older logs"), and a live tail (static/js/logs_tail.js) that
holds new lines behind a button while the reader is scrolled away from the top.

The page reads the store through the same `leader.db.logs.page` as GET /api/logs; the tail follows
GET /api/logs/events with the same filters (`data-tail` carries them, times already with their offset)
from the last log stored when the page was read (`?after=`, read in the same snapshot as the page): a
log stored before the browser connects is sent, not lost, and none on the page is sent again.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, current_app, render_template, request, url_for

from cluster_schema.errors import BadRequest
from cluster_schema.topics import LOG_LEVELS

from .. import contrib
from ..auth import requires
from ..db import experiments as exp_db
from ..db import get_db, log_feed, snapshot
from ..db import logs as logs_db
from ..db import units as units_db
from .shell import lab_zone

bp = Blueprint("logs", __name__, url_prefix="/logs")
PAGE = 100
FIELDS = ("q", "experiment", "unit", "job", "min_level", "since", "until")


def _instant(name: str, value: str) -> str:
    """A `datetime-local` value (the lab's wall clock) as ISO 8601 with the lab's offset."""
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        raise BadRequest(f"Invalid time at `{name}`: a date and time, e.g. 2026-11-21T09:30.") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=lab_zone())
    return when.isoformat()


def _query(chosen: dict[str, str]) -> dict[str, Any]:
    """The API's filters for what the form holds."""
    out: dict[str, Any] = {k: v for k, v in chosen.items() if v and k not in ("since", "until")}
    for name in ("since", "until"):
        if chosen[name]:
            out[name] = _instant(name, chosen[name])
    return out


@bp.get("")
@requires("viewer")
def index() -> str:
    db = get_db()
    chosen = {k: (request.args.get(k) or "").strip()[:200] for k in FIELDS}
    before = request.args.get("before") or None
    query, page, error, stored = {}, None, None, 0
    try:
        query = _query(chosen)
        filters = {k: v for k, v in query.items() if k not in ("since", "until")}
        with snapshot(db):
            stored = log_feed.latest(db)
            page = logs_db.page(
                db,
                **filters,
                since_ms=_ms(query.get("since")),
                until_ms=_ms(query.get("until")),
                before=before,
                limit=PAGE,
            )
    except BadRequest as exc:
        error = exc.message
    filled: dict[str, Any] = {k: v for k, v in chosen.items() if v}
    return render_template(
        "logs.html",
        chosen=chosen,
        page=page,
        error=error,
        levels=LOG_LEVELS,
        experiments=[e.name for e in exp_db.list_experiments(db)],
        units=[u.name for u in units_db.list_units(db)],
        jobs=[j.job_name for j in contrib.jobs(current_app.config["CONTRIB_DIR"])],
        older=url_for("logs.index", before=page.next, **filled) if page and page.next else None,
        first=url_for("logs.index", **filled),
        tail=None
        if before or page is None
        else url_for("api.logs.log_events") + "?" + urlencode({**query, "after": stored}),
        paged=before is not None,
    )


def _ms(iso: str | None) -> int | None:
    return None if iso is None else int(datetime.fromisoformat(iso).timestamp() * 1000)

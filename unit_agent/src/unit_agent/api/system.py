"""System actions (worker tasks running the configured commands) and the clock."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, Response

from cluster_schema.agent import Clock
from cluster_schema.errors import BadRequest

from ..http import body, json_response
from . import enqueue

bp = Blueprint("system", __name__, url_prefix="/unit_api/system")


@bp.post("/reboot")
def reboot() -> Response:
    return enqueue("system", "reboot")


@bp.post("/shutdown")
def shutdown() -> Response:
    return enqueue("system", "shutdown")


@bp.post("/update")
def update() -> Response:
    return enqueue("system", "update")


@bp.post("/identify")
def identify() -> Response:
    """Flicker the unit's LED (through its monitor job) so a person finds it on the bench."""
    return enqueue("identify")


@bp.get("/clock")
def get_clock() -> Response:
    return json_response(
        Clock(utc=datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"))
    )


@bp.post("/clock")
def set_clock() -> Response:
    req = body(Clock)
    try:
        when = datetime.fromisoformat(req.utc.strip().replace("Z", "+00:00"))
    except ValueError:
        raise BadRequest(
            "Invalid time at `$.utc`: an ISO 8601 timestamp, e.g. 2026-01-31T12:00:00Z."
        ) from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    # one argv element in a form `date --set` reads; nothing of the request's text travels on
    return enqueue("set_clock", when.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S"))

"""System actions (worker tasks running the configured commands) and the clock."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, Response

from cluster_schema.agent import Clock, TaskAnswer
from cluster_schema.openapi import Route

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
    return json_response(Clock(utc=datetime.now(UTC)))


@bp.post("/clock")
def set_clock() -> Response:
    when = body(Clock).utc  # RFC 3339 with an offset (msgspec refuses anything else, naming `$.utc`)
    # one argv element in a form `date --set` reads; nothing of the request's text travels on
    return enqueue("set_clock", when.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S"))


ROUTES = [
    Route(
        "POST",
        f"/unit_api/system/{action}",
        None,
        TaskAnswer,
        202,
        f"Run the unit's {action} command",
        headers=("Location",),
    )
    for action in ("reboot", "shutdown", "update")
] + [
    Route("GET", "/unit_api/system/clock", None, Clock, summary="The unit's clock (UTC)"),
    Route(
        "POST",
        "/unit_api/system/clock",
        Clock,
        TaskAnswer,
        202,
        "Set the unit's clock",
        headers=("Location",),
    ),
    Route(
        "POST",
        "/unit_api/system/identify",
        None,
        TaskAnswer,
        202,
        "Flicker the unit's LED (through its monitor job)",
        headers=("Location",),
    ),
]

"""Calibrations: read from the unit's storage; the active one is set by a worker task."""

from __future__ import annotations

from flask import Blueprint, Response

from cluster_schema.agent import Calibrations, TaskAnswer
from cluster_schema.openapi import Route

from .. import calibrations
from ..http import json_response
from . import agent, enqueue

bp = Blueprint("calibrations", __name__, url_prefix="/unit_api")


@bp.get("/calibrations")
def list_all() -> Response:
    a = agent()
    return json_response(calibrations.list_all(a.settings.dot_pioreactor, a.registry))


@bp.get("/calibrations/<device>")
def for_device(device: str) -> Response:
    a = agent()
    return json_response(calibrations.for_device(a.settings.dot_pioreactor, a.registry, device))


@bp.patch("/active_calibrations/<device>/<name>")
def set_active(device: str, name: str) -> Response:
    calibrations.check_exists(agent().settings.dot_pioreactor, device, name)
    return enqueue("set_active_calibration", device, name)


ROUTES = [
    Route("GET", "/unit_api/calibrations", None, Calibrations, summary="Every device's calibrations"),
    Route("GET", "/unit_api/calibrations/<device>", None, Calibrations, summary="One device's, with content"),
    Route(
        "PATCH",
        "/unit_api/active_calibrations/<device>/<name>",
        None,
        TaskAnswer,
        202,
        "Make a calibration the active one",
        headers=("Location",),
    ),
]

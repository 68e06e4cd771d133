"""/api/contrib: validated job, automation and chart descriptors."""

from __future__ import annotations

from typing import get_args

from flask import Blueprint, Response, current_app

from cluster_schema.contrib import AutomationDescriptor, AutomationKind, ChartDescriptor, JobDescriptor
from cluster_schema.errors import NotFound
from cluster_schema.openapi import Route

from .. import contrib
from ..auth import requires
from ..http import json_response

bp = Blueprint("contrib", __name__)
KINDS = get_args(AutomationKind)


@bp.get("/contrib/jobs")
@requires("viewer")
def jobs() -> Response:
    return json_response(contrib.jobs(current_app.config["CONTRIB_DIR"]))


@bp.get("/contrib/automations/<kind>")
@requires("viewer")
def automations(kind: str) -> Response:
    if kind not in KINDS:
        raise NotFound(f"No automation kind {kind!r}: one of {', '.join(KINDS)}.")
    return json_response(contrib.automations(current_app.config["CONTRIB_DIR"], kind))


@bp.get("/contrib/charts")
@requires("viewer")
def charts() -> Response:
    return json_response(contrib.charts(current_app.config["CONTRIB_DIR"]))


ROUTES = [
    Route("GET", "/api/contrib/jobs", None, list[JobDescriptor]),
    Route("GET", "/api/contrib/automations/<kind>", None, list[AutomationDescriptor]),
    Route("GET", "/api/contrib/charts", None, list[ChartDescriptor]),
]

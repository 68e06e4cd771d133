"""GET /api/health — no credentials: load balancers and `make run` poll it."""

from __future__ import annotations

from flask import Blueprint, Response

from cluster_schema import SCHEMA_VERSION
from cluster_schema.leader import HealthAnswer
from cluster_schema.openapi import Route

from .. import __version__
from ..auth import public
from ..db import get_db
from ..http import json_response

bp = Blueprint("health", __name__)


@bp.get("/health")
@public
def health() -> Response:
    get_db().execute("SELECT 1").fetchone()  # the store answers
    return json_response(HealthAnswer(status="ok", version=__version__, schema_version=SCHEMA_VERSION))


ROUTES = [Route("GET", "/api/health", None, HealthAnswer, summary="Liveness, no credentials", public=True)]

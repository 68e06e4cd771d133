"""GET /api/health — no credentials: load balancers and `make run` poll it."""

from __future__ import annotations

from flask import Blueprint, Response, current_app

from cluster_schema import SCHEMA_VERSION
from cluster_schema.leader import HealthAnswer
from cluster_schema.openapi import Route

from .. import __version__, setup
from ..auth import public
from ..db import get_db
from ..http import json_response

bp = Blueprint("health", __name__)


@bp.get("/health")
@public
def health() -> Response:
    db = get_db()
    db.execute("SELECT 1").fetchone()  # the store answers
    return json_response(
        HealthAnswer(
            status="ok",
            version=__version__,
            schema_version=SCHEMA_VERSION,
            setup_complete=setup.is_complete(db),
            timezone=current_app.config["TIMEZONE"],
        )
    )


ROUTES = [Route("GET", "/api/health", None, HealthAnswer, summary="Liveness, no credentials", public=True)]

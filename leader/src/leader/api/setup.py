"""/api/setup: the wizard's state and its last step (admin)."""

from __future__ import annotations

from flask import Blueprint, Response

from cluster_schema.openapi import Route
from cluster_schema.people import SetupState

from .. import auth, setup
from ..db import get_db
from ..http import json_response

bp = Blueprint("setup", __name__)


@bp.post("/setup/complete")
@auth.requires("admin")
def complete() -> Response:
    setup.complete(get_db(), auth.principal() or "")
    return json_response(SetupState(setup_complete=True))


ROUTES = [Route("POST", "/api/setup/complete", None, SetupState, summary="The wizard's last step (admin)")]

"""/api/openapi.json, generated from the blueprints' ROUTES and the shared Structs."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response

from cluster_schema.openapi import Route, document

from .. import __version__
from ..auth import requires
from ..http import json_response

bp = Blueprint("openapi", __name__)
_doc: dict[str, Any] = {}


@bp.get("/openapi.json")
@requires("viewer")
def spec() -> Response:
    from . import routes

    if not _doc:
        _doc.update(document("Pioreactor cluster leader", __version__, routes()))
    return json_response(_doc)


ROUTES = [Route("GET", "/api/openapi.json", None, None, summary="This document")]

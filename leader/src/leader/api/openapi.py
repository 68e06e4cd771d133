"""/api/openapi.json, generated from the blueprints' ROUTES and the shared Structs."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app

from cluster_schema.openapi import Route, document, enum

from .. import __version__, exports
from ..auth import requires
from ..http import json_response

bp = Blueprint("openapi", __name__)
_doc: dict[str, Any] = {}


@bp.get("/openapi.json")
@requires("viewer")
def spec() -> Response:
    from . import routes

    if not _doc:
        doc = document("Pioreactor cluster leader", __version__, routes())
        # the datasets this leader exports depend on its chart descriptors
        export = doc["components"]["schemas"]["ExportRequest"]["properties"]["datasets"]
        export["items"] = enum(exports.datasets(current_app))
        _doc.update(doc)
    return json_response(_doc)


ROUTES = [Route("GET", "/api/openapi.json", None, None, summary="This document")]

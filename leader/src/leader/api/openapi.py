"""/api/openapi.json, generated from the blueprints' ROUTES and the shared Structs."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app

from cluster_schema.openapi import Route, document, enum

from .. import __version__, exports
from ..auth import requires
from ..http import json_response
from .alerts import series_keys

bp = Blueprint("openapi", __name__)
_doc: dict[str, Any] = {}


@bp.get("/openapi.json")
@requires("viewer")
def spec() -> Response:
    from . import routes

    if not _doc:
        doc = document("Pioreactor cluster leader", __version__, routes())
        # the datasets this leader exports depend on its chart descriptors; it writes CSV only
        schemas = doc["components"]["schemas"]
        for name in ("ExportRequest", "ExportAction"):
            if name in schemas:
                schemas[name]["properties"]["datasets"]["items"] = enum(exports.datasets(current_app))
                schemas[name]["properties"]["format"] = {**enum(exports.FORMATS), "default": "csv"}
        # what a threshold rule may watch: this leader's chart descriptors
        for name in ("ThresholdRuleCreate", "ThresholdRulePatch"):
            series = schemas[name]["properties"]["series"]
            series.pop("maxLength", None)
            if "anyOf" in series:  # optional: the name or null
                series["anyOf"] = [enum(series_keys(current_app)), {"type": "null"}]
            else:
                series.update(enum(series_keys(current_app)))
        _doc.update(doc)
    return json_response(_doc)


ROUTES = [Route("GET", "/api/openapi.json", None, None, summary="This document")]

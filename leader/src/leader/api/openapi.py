"""/api/openapi.json, generated from the blueprints' ROUTES and the shared Structs."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, render_template

from cluster_schema.openapi import Route, document, enum

from .. import __version__, exports
from ..auth import requires
from ..http import json_response
from .alerts import series_keys

bp = Blueprint("openapi", __name__)
_doc: dict[str, Any] = {}


def _document() -> dict[str, Any]:
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
    return _doc


@bp.get("/openapi.json")
@requires("viewer")
def spec() -> Response:
    return json_response(_document())


def _ref_name(schema: dict[str, Any] | None) -> str:
    """`Foo` for a `$ref` to `#/components/schemas/Foo` (what the document's bodies are), else ''."""
    ref = (schema or {}).get("$ref", "")
    return str(ref).rsplit("/", 1)[-1]


@bp.get("/docs")
@requires("viewer")
def docs() -> str:
    """The API reference as a page, rendered from the OpenAPI document (no outside assets, no scripts)."""
    doc = _document()
    operations = []
    for path, methods in doc.get("paths", {}).items():
        for method, op in methods.items():
            body = op.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
            answers = [
                (status, _ref_name(a.get("content", {}).get("application/json", {}).get("schema")))
                for status, a in op.get("responses", {}).items()
            ]
            operations.append(
                {
                    "method": method.upper(),
                    "path": path,
                    "summary": op.get("summary", ""),
                    "parameters": op.get("parameters", []),
                    "body": _ref_name(body),
                    "answers": answers,
                }
            )
    schemas = doc.get("components", {}).get("schemas", {})
    return render_template("api_docs.html", doc=doc, operations=operations, schemas=schemas)


ROUTES = [
    Route("GET", "/api/openapi.json", None, None, summary="This document"),
    Route("GET", "/api/docs", None, None, summary="This document as a readable page", media_type="text/html"),
]

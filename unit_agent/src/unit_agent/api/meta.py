"""Health (no credentials), versions, and the OpenAPI document built from the shared Structs."""

from __future__ import annotations

import platform
from typing import Any

import msgspec
from flask import Blueprint, Response

from cluster_schema import SCHEMA_VERSION
from cluster_schema.agent import ClusterTokenPut, Health, Versions
from cluster_schema.names import ArgStr, ExperimentName, JobName, ValueStr
from cluster_schema.openapi import Route, document, enum

from .. import __version__
from ..http import body, json_response
from . import agent, routes

bp = Blueprint("meta", __name__, url_prefix="/unit_api")

ROUTES = [
    Route("GET", "/unit_api/health", None, Health, summary="Liveness; no credentials", public=True),
    Route("GET", "/unit_api/versions", None, Versions),
    Route("GET", "/unit_api/openapi.json", None, None, summary="This document"),
    Route(
        "PUT", "/unit_api/cluster_token", ClusterTokenPut, None, summary="Rotate: store a new cluster token"
    ),
    Route(
        "GET",
        "/unit_api/metrics",
        None,
        None,
        summary="Prometheus text; cluster or read-only metrics token",
        media_type="text/plain",
    ),
]

_spec: dict[str, Any] | None = None


@bp.get("/health")
def health() -> Response:
    return json_response(
        Health(
            unit=agent().settings.unit, status="ok", agent_version=__version__, schema_version=SCHEMA_VERSION
        )
    )


@bp.get("/versions")
def versions() -> Response:
    pio_version = agent().store.fact("pio_version", "unknown")  # learnt by the worker at its start
    return json_response(
        Versions(agent=__version__, pio=pio_version, python=platform.python_version(), schema=SCHEMA_VERSION)
    )


@bp.get("/openapi.json")
def openapi() -> Response:
    global _spec
    if _spec is None:
        _spec = _for_this_unit(document("Pioreactor unit agent", __version__, routes(), roles=False))
    return json_response(_spec)


@bp.put("/cluster_token")
def put_cluster_token() -> Response:
    """Token rotation: authenticated with the current token, stores the new one (atomically, chmod 600)."""
    agent().token.replace(body(ClusterTokenPut).token)
    return json_response({"status": "ok"})


def _for_this_unit(doc: dict[str, Any]) -> dict[str, Any]:
    """What this agent's settings decide: its config file names and the environment names it passes."""
    settings = agent().settings
    for op in doc["paths"]["/unit_api/config/{name}"].values():
        (param,) = op["parameters"]
        param["schema"] = enum(sorted(settings.config_files))
    env = doc["components"]["schemas"]["RunJobRequest"]["properties"]["env"]
    env.pop("propertyNames", None)
    env["additionalProperties"] = False
    # every value is a ValueStr (RunJobRequest.validate); then, as Pio.env checks each, EXPERIMENT and
    # JOB_SOURCE follow their name rules and the others are argv values
    kinds: dict[str, Any] = {"EXPERIMENT": ExperimentName, "JOB_SOURCE": JobName}
    env["properties"] = {
        n: {"allOf": [msgspec.json.schema(ValueStr), msgspec.json.schema(kinds.get(n, ArgStr))]}
        for n in sorted(settings.env_allowed)
    }
    return doc

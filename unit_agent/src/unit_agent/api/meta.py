"""Health (no credentials), versions, and the OpenAPI document built from the shared Structs."""

from __future__ import annotations

import platform
from typing import Any

from flask import Blueprint, Response

from cluster_schema import SCHEMA_VERSION
from cluster_schema.agent import (
    AgentRunningJob,
    Calibrations,
    Clock,
    ClusterTokenPut,
    ConfigFileAnswer,
    ConfigFileBody,
    Health,
    JobSettings,
    PluginRequest,
    Plugins,
    RunJobRequest,
    SettingsUpdateRequest,
    StopJobsRequest,
    TaskAnswer,
    TaskResult,
    Versions,
)
from cluster_schema.openapi import Route, document

from .. import __version__
from ..http import body, json_response
from . import agent

bp = Blueprint("meta", __name__, url_prefix="/unit_api")

# Every route of the app, with its body and answer types (a test checks this against the URL map).
ROUTES = [
    Route("GET", "/unit_api/health", None, Health, summary="Liveness; no credentials"),
    Route("GET", "/unit_api/versions", None, Versions),
    Route("GET", "/unit_api/openapi.json", None, None),
    Route("POST", "/unit_api/jobs/run/job_name/<job>", RunJobRequest, TaskAnswer, 202),
    Route("POST", "/unit_api/jobs/stop", StopJobsRequest, TaskAnswer, 202),
    Route("GET", "/unit_api/jobs/running", None, list[AgentRunningJob]),
    Route("GET", "/unit_api/jobs/settings/job_name/<job>", None, JobSettings),
    Route("PATCH", "/unit_api/jobs/settings/job_name/<job>", SettingsUpdateRequest, TaskAnswer, 202),
    Route("GET", "/unit_api/task_results/<task_id>", None, TaskResult, summary="202 pending, 404 unknown"),
    Route("POST", "/unit_api/system/reboot", None, TaskAnswer, 202),
    Route("POST", "/unit_api/system/shutdown", None, TaskAnswer, 202),
    Route("POST", "/unit_api/system/update", None, TaskAnswer, 202),
    Route("POST", "/unit_api/system/identify", None, TaskAnswer, 202, "Flicker the LED"),
    Route("GET", "/unit_api/system/clock", None, Clock),
    Route("POST", "/unit_api/system/clock", Clock, TaskAnswer, 202),
    Route("GET", "/unit_api/plugins", None, Plugins),
    Route("POST", "/unit_api/plugins/install", PluginRequest, TaskAnswer, 202, "403 unless enabled"),
    Route("POST", "/unit_api/plugins/uninstall", PluginRequest, TaskAnswer, 202, "403 unless enabled"),
    Route("GET", "/unit_api/calibrations", None, Calibrations),
    Route("GET", "/unit_api/calibrations/<device>", None, Calibrations),
    Route("PATCH", "/unit_api/active_calibrations/<device>/<name>", None, TaskAnswer, 202),
    Route("GET", "/unit_api/config/<name>", None, ConfigFileAnswer),
    Route("PUT", "/unit_api/config/<name>", ConfigFileBody, ConfigFileAnswer),
    Route(
        "PUT", "/unit_api/cluster_token", ClusterTokenPut, None, summary="Rotate: store a new cluster token"
    ),
    Route(
        "GET", "/unit_api/metrics", None, None, summary="Prometheus text; cluster or read-only metrics token"
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
        _spec = document("Pioreactor unit agent", __version__, ROUTES)
    return json_response(_spec)


@bp.put("/cluster_token")
def put_cluster_token() -> Response:
    """Token rotation: authenticated with the current token, stores the new one (atomically, chmod 600)."""
    agent().token.replace(body(ClusterTokenPut).token)
    return json_response({"status": "ok"})

"""Plugins: listing asks the worker (it runs `pio plugins list`); install/uninstall only when enabled."""

from __future__ import annotations

import time

from flask import Blueprint, Response

from cluster_schema.agent import PluginRequest, Plugins, TaskAnswer
from cluster_schema.errors import Forbidden, UnitFailed, UnitTimeout
from cluster_schema.openapi import Route

from ..http import body, json_response
from ..pio import check_plugin
from . import agent, enqueue

bp = Blueprint("plugins", __name__, url_prefix="/unit_api/plugins")


@bp.get("")
def list_plugins() -> Response:
    a = agent()
    task_id = a.queue.enqueue("list_plugins")
    deadline = time.monotonic() + a.settings.timeouts_pio_call + 5
    while time.monotonic() < deadline:
        result = a.store.task_result(task_id)
        if result.status == "complete":
            return json_response(result.result)
        if result.status != "pending":
            raise UnitFailed(f"Listing plugins failed: {result.error}")
        time.sleep(0.02)
    raise UnitTimeout("Listing plugins took too long; is the agent's worker running?")


def _change(action: str) -> Response:
    if not agent().settings.allow_plugins:
        raise Forbidden("Plugin installation is disabled on this unit (allow_plugins = false).")
    req = body(PluginRequest)
    check_plugin(req.name, req.version)
    return enqueue("plugin", action, req.name, req.version)


@bp.post("/install")
def install() -> Response:
    return _change("install")


@bp.post("/uninstall")
def uninstall() -> Response:
    return _change("uninstall")


ROUTES = [
    Route("GET", "/unit_api/plugins", None, Plugins, summary="Installed plugins", errors=(502, 504)),
    Route(
        "POST",
        "/unit_api/plugins/install",
        PluginRequest,
        TaskAnswer,
        202,
        "Install a plugin (403 unless allow_plugins)",
        errors=(403,),
        headers=("Location",),
    ),
    Route(
        "POST",
        "/unit_api/plugins/uninstall",
        PluginRequest,
        TaskAnswer,
        202,
        "Uninstall a plugin (403 unless allow_plugins)",
        errors=(403,),
        headers=("Location",),
    ),
]

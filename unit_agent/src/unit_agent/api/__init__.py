"""The `/unit_api` blueprints, one per concern; routes stay thin and call the modules that do the work."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from flask import Response, current_app

from cluster_schema.agent import TaskAnswer
from cluster_schema.openapi import Route

from ..http import json_response

if TYPE_CHECKING:
    from ..app import Agent


def agent() -> Agent:
    return cast("Agent", current_app.extensions["unit_agent"])


def enqueue(kind: str, *args: Any) -> Response:
    """Queue a worker task and answer the contract's `202 {"task_id", "unit", "result_url_path"}`."""
    a = agent()
    task_id = a.queue.enqueue(kind, *args)
    path = f"/unit_api/task_results/{task_id}"
    return json_response(
        TaskAnswer(task_id=task_id, unit=a.settings.unit, result_url_path=path), 202, {"Location": path}
    )


def routes() -> list[Route]:
    """Every module's ROUTES (a test checks them against the app's URL map)."""
    from . import calibrations, config_files, jobs, meta, plugins, system, tasks

    modules = (meta, jobs, tasks, system, plugins, calibrations, config_files)
    return [route for module in modules for route in module.ROUTES]

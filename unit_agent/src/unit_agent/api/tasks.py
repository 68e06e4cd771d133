"""GET /unit_api/task_results/<task_id>: 200 complete/failed, 202 pending, 404 unknown; re-readable."""

from __future__ import annotations

import re
from typing import Annotated

from flask import Blueprint, Response
from msgspec import Meta

from cluster_schema.agent import TaskResult
from cluster_schema.codec import to_builtins
from cluster_schema.errors import ErrorBody
from cluster_schema.openapi import Route

from ..http import json_response
from . import agent

_TASK_ID = r"^[A-Za-z0-9-]{1,64}$"  # Huey's ids are UUIDs
TaskId = Annotated[str, Meta(pattern=_TASK_ID)]
bp = Blueprint("tasks", __name__, url_prefix="/unit_api")

_STATUS = {"complete": 200, "failed": 200, "pending": 202, "unknown": 404}


@bp.get("/task_results/<task_id>")
def task_result(task_id: str) -> Response:
    result = agent().store.task_result(task_id) if re.fullmatch(_TASK_ID, task_id) else None
    if result is None or result.status == "unknown":
        # the contract's `{"status": "unknown"}`, with the error body every 404 has
        body = {
            "status": "unknown",
            **to_builtins(ErrorBody(error="not_found", message=f"No task {task_id!r}.")),
        }
        return json_response(body, 404)
    return json_response(result, _STATUS[result.status])


ROUTES = [
    Route(
        "GET",
        "/unit_api/task_results/<task_id>",
        None,
        TaskResult,
        summary="A task's result: 200 complete or failed, 202 pending, 404 unknown; readable many times",
        params={"task_id": TaskId},
        answers={202: TaskResult},
    ),
]

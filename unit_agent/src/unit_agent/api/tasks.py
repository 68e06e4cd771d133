"""GET /unit_api/task_results/<task_id>: 200 complete/failed, 202 pending, 404 unknown; re-readable."""

from __future__ import annotations

import re

from flask import Blueprint, Response

from cluster_schema.agent import TaskResult

from ..http import json_response
from . import agent

_TASK_ID = re.compile(r"^[A-Za-z0-9-]{1,64}$")  # Huey's ids are UUIDs
bp = Blueprint("tasks", __name__, url_prefix="/unit_api")

_STATUS = {"complete": 200, "failed": 200, "pending": 202, "unknown": 404}


@bp.get("/task_results/<task_id>")
def task_result(task_id: str) -> Response:
    if not _TASK_ID.match(task_id):
        return json_response(TaskResult(status="unknown"), 404)
    result = agent().store.task_result(task_id)
    return json_response(result, _STATUS[result.status])

"""GET /unit_api/task_results/<task_id>: 200 complete/failed, 202 pending, 404 unknown; re-readable."""

from __future__ import annotations

from flask import Blueprint, Response

from ..http import json_response
from . import agent

bp = Blueprint("tasks", __name__, url_prefix="/unit_api")

_STATUS = {"complete": 200, "failed": 200, "pending": 202, "unknown": 404}


@bp.get("/task_results/<task_id>")
def task_result(task_id: str) -> Response:
    result = agent().store.task_result(task_id[:100])
    return json_response(result, _STATUS[result.status])

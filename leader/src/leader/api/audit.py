"""GET /api/audit (admin): sign-ins and failures, user/role/token changes, config edits, deletions."""

from __future__ import annotations

from flask import Blueprint, Response

from cluster_schema.openapi import Route
from cluster_schema.people import AuditPage

from .. import auth
from ..db import audit as audit_db
from ..db import get_db
from ..http import json_response, query_arg, query_int

bp = Blueprint("audit", __name__)


@bp.get("/audit")
@auth.requires("admin")
def audit() -> Response:
    before = query_int("before", 0, lo=0, hi=2**62)
    page = audit_db.page(
        get_db(),
        before=before or None,
        limit=query_int("limit", 100, lo=1, hi=audit_db.MAX_LIMIT),
        action=query_arg("action") or None,
        actor=query_arg("actor") or None,
    )
    return json_response(page)


ROUTES = [
    Route(
        "GET",
        "/api/audit",
        None,
        AuditPage,
        summary="Audit trail, newest first; filters action, actor; `before` = a page's `next`",
        query={
            "before": {"type": "integer", "minimum": 0, "maximum": 2**62},
            "limit": {"type": "integer", "minimum": 1, "maximum": audit_db.MAX_LIMIT},
            "action": {"type": "string"},
            "actor": {"type": "string"},
        },
    )
]

"""POST /api/exports -> 202 operation (the worker writes the zip); GET /api/exports/<id> -> the zip."""

from __future__ import annotations

from typing import cast

from flask import Blueprint, Flask, Response, current_app, send_file
from flask.blueprints import BlueprintSetupState
from werkzeug.routing import BaseConverter

from cluster_schema.errors import BadRequest, Conflict, NotFound
from cluster_schema.leader import ExportRequest, ExportRequestSchema, OperationAnswer
from cluster_schema.log_pages import ExportPreview
from cluster_schema.openapi import WAIT, Route

from .. import export_preview, exports
from ..auth import requires
from ..db import get_db
from ..db import operations as ops_db
from ..http import MAX_WAIT, body, json_response, query_float
from ..operations.submit import accepted, submit, trigger
from .operations import OperationId

bp = Blueprint("exports", __name__)


class ExportIdConverter(BaseConverter):
    """`<exportid:op_id>`: an operation id (32 hex digits), so that /api/exports/preview is that route's
    alone (its OPTIONS and 405s list its methods only)."""

    regex = r"[0-9a-f]{32}"


@bp.record_once
def _register_task(state: BlueprintSetupState) -> None:
    app = cast(Flask, state.app)
    app.url_map.converters["exportid"] = ExportIdConverter  # before the routes below are added
    exports.register(app.extensions["leader.huey"], app)


def _chosen(req: ExportRequest) -> list[str]:
    available = exports.datasets(current_app)
    chosen = req.datasets or available
    unknown = [d for d in chosen if d not in available]
    if unknown:
        raise BadRequest(
            f"Unknown dataset at `$.datasets`: {', '.join(unknown)}; one of {', '.join(available)}."
        )
    if req.format not in exports.FORMATS:
        raise BadRequest(
            "Parquet exports are not available on this leader at `$.format`: use csv.", code="not_available"
        )
    return chosen


@bp.post("/exports/preview")
@requires("operator")  # a step of exporting (a viewer reads the same rows through the other reads)
def preview() -> Response:
    req = body(ExportRequest)
    params = exports.params(get_db(), current_app, req, _chosen(req))
    return json_response(export_preview.preview(current_app, params))


@bp.post("/exports")
@requires("operator")
def create_export() -> Response:
    req = body(ExportRequest)
    chosen = _chosen(req)
    query_float("wait", 0.0, hi=MAX_WAIT)
    return accepted(
        submit(
            exports.KIND,
            exports.params(get_db(), current_app, req, chosen),
            [],
            trigger(),
            needs_targets=False,
        )
    )


@bp.get("/exports/<exportid:op_id>")
@requires("viewer")
def download(op_id: str) -> Response:
    op = ops_db.get(get_db(), op_id)
    if op.kind != exports.KIND:
        raise NotFound(f"No export with id {op_id!r}.")
    if op.status != "succeeded":
        raise Conflict(f"Export {op_id} is {op.status}, not ready: follow /api/operations/{op_id}.")
    path = exports.path_of(current_app, op_id)
    if not path.exists():
        days = current_app.config["EXPORTS_KEEP_DAYS"]
        raise NotFound(f"The file of export {op_id} is gone (exports are kept {days} days): export again.")
    return send_file(
        path,
        mimetype="application/zip",
        as_attachment=True,
        download_name=export_preview.file_name(op.params, op.created_at),
    )


ROUTES = [
    Route(
        "POST",
        "/api/exports",
        ExportRequestSchema,
        OperationAnswer,
        202,
        "Export experiments (or all) in a time range as a zip of CSV (times in the lab's zone)",
        query={"wait": WAIT},
        headers=("Location",),
    ),
    Route(
        "POST",
        "/api/exports/preview",
        ExportRequestSchema,
        ExportPreview,
        summary="The first rows of each file an export would write (nothing is written); "
        "time columns in the lab's zone",
    ),
    Route(
        "GET",
        "/api/exports/<exportid:op_id>",
        None,
        None,
        summary="The finished export (409 while it runs; 404 when gone)",
        errors=(409,),
        params={"op_id": OperationId},
        media_type="application/zip",
    ),
]

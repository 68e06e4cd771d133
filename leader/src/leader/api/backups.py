"""GET /api/backups -> the kept backups; POST /api/backups -> 202 operation (the worker takes the copy)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import cast

from flask import Blueprint, Flask, Response, current_app
from flask.blueprints import BlueprintSetupState

from cluster_schema.backups import Backup, BackupList
from cluster_schema.leader import OperationAnswer
from cluster_schema.openapi import Route

from .. import backups
from ..auth import requires
from ..http import MAX_WAIT, json_response, query_float
from ..operations.submit import accepted, submit, trigger

bp = Blueprint("backups", __name__)


@bp.record_once
def _register_task(state: BlueprintSetupState) -> None:
    app = cast(Flask, state.app)
    backups.register(app.extensions["leader.huey"], app)


@bp.get("/backups")
@requires("admin")
def list_backups() -> Response:
    cfg = current_app.config
    items = []
    for path in backups.listing(cfg["BACKUP_DIR"]):
        st = path.stat()
        stamp = datetime.fromtimestamp(st.st_mtime, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
        items.append(Backup(name=path.name, size=st.st_size, created_at=stamp))
    return json_response(
        BackupList(backups=items, keep=int(cfg["BACKUP_KEEP"]), schedule=str(cfg["BACKUP_AT"] or ""))
    )


@bp.post("/backups")
@requires("admin")
def create_backup() -> Response:
    query_float("wait", 0.0, hi=MAX_WAIT)
    return accepted(submit(backups.KIND, {}, [], trigger(), needs_targets=False))


ROUTES = [
    Route("GET", "/api/backups", None, BackupList, summary="The store's kept backups, newest first"),
    Route(
        "POST",
        "/api/backups",
        None,
        OperationAnswer,
        202,
        "Take a consistent online backup of the store now (an operation run by the worker)",
    ),
]

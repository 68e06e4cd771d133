"""/api/config: Pioreactor config files kept by the leader, their history, and sync to the units."""

from __future__ import annotations

from flask import Blueprint, Response

from cluster_schema.base import Wire
from cluster_schema.errors import BadRequest
from cluster_schema.leader import ConfigFile, ConfigFilePut, OperationAnswer
from cluster_schema.names import check_file_name, check_unit
from cluster_schema.openapi import Route

from ..auth import address, dangerous, principal, requires
from ..db import audit, get_db
from ..db import config_files as files_db
from ..db import units as units_db
from ..http import body, json_response
from ..operations.submit import start

bp = Blueprint("config_files", __name__)


class ConfigSync(Wire):
    units: list[str] | None = None  # default: every active unit


def _name(name: str) -> str:
    check_file_name(name)
    if not name.endswith(".ini"):
        raise BadRequest("Invalid file name at `name`: config files end in `.ini`.")
    return name


@bp.get("/config/files")
@requires("viewer")
def list_files() -> Response:
    return json_response({"files": files_db.list_files(get_db())})


@bp.get("/config/files/<name>")
@requires("viewer")
def get_file(name: str) -> Response:
    return json_response(files_db.get(get_db(), _name(name)))


@bp.put("/config/files/<name>")
@requires("admin")
def put_file(name: str) -> Response:
    new = body(ConfigFilePut)
    saved = files_db.put(get_db(), _name(name), new.content, new.sha256, principal())
    audit.record(get_db(), principal() or "", "config.edit", name, {"sha256": saved.sha256}, address())
    return json_response(saved)


@bp.get("/config/files/<name>/history")
@requires("viewer")
def history(name: str) -> Response:
    return json_response({"history": files_db.history(get_db(), _name(name))})


@bp.post("/config/sync")
@requires("admin")
@dangerous
def sync() -> Response:
    """One step per unit; an unreachable unit is a failed step, never a silent success."""
    req = body(ConfigSync)
    db = get_db()
    files_db.get(db, "config.ini")  # 404 when there is nothing to sync
    units = req.units
    if units is None:
        units = units_db.active_names(db)
    else:
        for i, unit in enumerate(units):
            check_unit(unit, f"$.units[{i}]")
            units_db.get(db, unit)
    return start("config.sync", {}, units)


ROUTES = [
    Route("GET", "/api/config/files", None, None, summary="Config files (names and sha256)"),
    Route("GET", "/api/config/files/<name>", None, ConfigFile),
    Route("PUT", "/api/config/files/<name>", ConfigFilePut, ConfigFile, summary="Save (validated as INI)"),
    Route("GET", "/api/config/files/<name>/history", None, None, summary="Earlier versions, newest first"),
    Route("POST", "/api/config/sync", ConfigSync, OperationAnswer, 202, "Write the files to the units"),
]

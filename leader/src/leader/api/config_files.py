"""/api/config: Pioreactor config files kept by the leader, their history, and sync to the units."""

from __future__ import annotations

from typing import Annotated

from flask import Blueprint, Response
from msgspec import Meta

from cluster_schema.base import Wire
from cluster_schema.errors import BadRequest, Conflict
from cluster_schema.leader import (
    ConfigFile,
    ConfigFilePut,
    ConfigFiles,
    ConfigHistory,
    OperationAnswer,
    UnitList,
)
from cluster_schema.names import FILE_MAX, check_file_name
from cluster_schema.openapi import WAIT, Route

from ..auth import address, dangerous, principal, requires
from ..db import audit, get_db
from ..db import config_files as files_db
from ..db import units as units_db
from ..http import body, json_response
from ..operations.submit import start

bp = Blueprint("config_files", __name__)


class ConfigSync(Wire):
    units: UnitList | None = None  # default: every active unit

    def validate(self) -> ConfigSync:
        if self.units is not None and len(set(self.units)) != len(self.units):
            raise BadRequest("Duplicate unit names at `$.units`.")
        return self


# Config files the leader keeps: file names ending in `.ini`
ConfigName = Annotated[str, Meta(pattern=r"^[A-Za-z0-9_](?:\.?[A-Za-z0-9_-])*\.ini$", max_length=FILE_MAX)]


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
    # what the body names, or the store lacks, is a conflict with the state (404 is for the URL's resource)
    if not any(f.name == "config.ini" for f in files_db.list_files(db)):
        raise Conflict("Nothing to sync: save config.ini first.", code="nothing_to_sync")
    units = req.units
    if units is None:
        units = units_db.active_names(db)
    else:
        known = {u.name for u in units_db.list_units(db)}
        unknown = [unit for unit in units if unit not in known]
        if unknown:
            raise Conflict(f"Unknown unit(s) at `$.units`: {', '.join(unknown)}.", code="unknown_units")
    return start("config.sync", {}, units)


_NAME = {"name": ConfigName}
ROUTES = [
    Route("GET", "/api/config/files", None, ConfigFiles, summary="Config files (names and sha256)"),
    Route("GET", "/api/config/files/<name>", None, ConfigFile, params=_NAME),
    Route(
        "PUT",
        "/api/config/files/<name>",
        ConfigFilePut,
        ConfigFile,
        summary="Save (validated as INI: 400 `invalid_config`); 409 when `sha256` is not the current one",
        params=_NAME,
        errors=(409,),
    ),
    Route(
        "GET",
        "/api/config/files/<name>/history",
        None,
        ConfigHistory,
        summary="Earlier versions, newest first",
        params=_NAME,
    ),
    Route(
        "POST",
        "/api/config/sync",
        ConfigSync,
        OperationAnswer,
        202,
        "Write the files to the units (409: no config.ini yet, an unknown unit, or no unit at all)",
        errors=(409,),
        query={"wait": WAIT},
        headers=("Location",),
    ),
]

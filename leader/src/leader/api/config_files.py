"""/api/config: Pioreactor config files kept by the leader, their checks, history and revert, and sync to
the units (an operation with a step per unit)."""

from __future__ import annotations

from typing import Annotated

from flask import Blueprint, Response
from msgspec import Meta

from cluster_schema.base import Wire
from cluster_schema.config_files import (
    ConfigCheck,
    ConfigCheckAnswer,
    ConfigFile,
    ConfigFilePut,
    ConfigFiles,
    ConfigHistory,
    ConfigRevert,
)
from cluster_schema.errors import BadRequest, Conflict
from cluster_schema.leader import OperationAnswer, UnitList
from cluster_schema.names import FILE_MAX, check_file_name
from cluster_schema.openapi import WAIT, Route

from ..auth import address, dangerous, principal, requires
from ..config_check import diagnose, unified_diff
from ..config_sync_state import with_state, with_sync_state
from ..db import audit, get_db
from ..db import config_files as files_db
from ..db import units as units_db
from ..http import body, json_response
from ..operations.actions import SHARED_CONFIG, unit_config_name
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


def _syncable(name: str) -> str:
    """Only files a sync writes may be saved: `config.ini`, or `config_<unit>.ini` of a registered unit."""
    _name(name)
    units = [u.name for u in units_db.list_units(get_db())]
    if name != SHARED_CONFIG and name not in {unit_config_name(u) for u in units}:
        raise Conflict(
            f"No unit for config file {name!r}: the leader keeps config.ini and config_<unit>.ini "
            "of its units.",
            code="unknown_config_file",
        )
    return name


@bp.get("/config/files")
@requires("viewer")
def list_files() -> Response:
    db = get_db()
    return json_response({"files": with_sync_state(db, files_db.list_files(db))})


@bp.get("/config/files/<name>")
@requires("viewer")
def get_file(name: str) -> Response:
    db = get_db()
    return json_response(with_state(db, files_db.get(db, _name(name))))


@bp.put("/config/files/<name>")
@requires("admin")
def put_file(name: str) -> Response:
    new = body(ConfigFilePut)
    saved = files_db.put(get_db(), _syncable(name), new.content, new.sha256, principal())
    audit.record(get_db(), principal() or "", "config.edit", name, {"sha256": saved.sha256}, address())
    return json_response(with_state(get_db(), saved))


@bp.post("/config/files/<name>/check")
@requires("admin")  # only admins edit these files: the check is the editor's, saves nothing
def check_file(name: str) -> Response:
    """What saving `content` would do, saving nothing: its problems on their lines, and the diff."""
    draft = body(ConfigCheck).content
    current = files_db.find(get_db(), _syncable(name))
    saved = current.content if current else ""
    return json_response(
        ConfigCheckAnswer(
            name=name,
            diagnostics=diagnose(draft, name),
            diff=unified_diff(saved, draft, name),
            changed=current is None or saved != draft,
            current_sha256=current.sha256 if current else None,
        )
    )


@bp.get("/config/files/<name>/history")
@requires("viewer")
def history(name: str) -> Response:
    return json_response(ConfigHistory(history=files_db.history(get_db(), _name(name))))


@bp.post("/config/files/<name>/history/<int:version>/revert")
@requires("admin")
def revert(name: str, version: int) -> Response:
    req = body(ConfigRevert)
    db = get_db()
    saved = files_db.revert(db, _name(name), version, req.sha256, principal())
    details = {"sha256": saved.sha256, "reverted_from": version}
    audit.record(db, principal() or "", "config.revert", name, details, address())
    return json_response(with_state(db, saved))


@bp.post("/config/sync")
@requires("admin")
@dangerous
def sync() -> Response:
    """One step per unit; an unreachable unit is a failed step, never a silent success."""
    req = body(ConfigSync)
    db = get_db()
    # what the body names, or the store lacks, is a conflict with the state (404 is for the URL's resource)
    if files_db.find(db, SHARED_CONFIG) is None:
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
    Route(
        "GET",
        "/api/config/files",
        None,
        ConfigFiles,
        summary="Config files (names, sha256, and the units a sync has not written the current version to)",
    ),
    Route(
        "GET",
        "/api/config/files/<name>",
        None,
        ConfigFile,
        summary="One file; `unsynced_units`: its units whose last successful sync wrote another version, "
        "or none",
        params=_NAME,
    ),
    Route(
        "PUT",
        "/api/config/files/<name>",
        ConfigFilePut,
        ConfigFile,
        summary="Save (400 `invalid_config` with `diagnostics`, each on its line; a key named like a secret "
        "is refused); 409 when `sha256` is not the current one or no unit has that file",
        params=_NAME,
        errors=(409,),
    ),
    Route(
        "POST",
        "/api/config/files/<name>/check",
        ConfigCheck,
        ConfigCheckAnswer,
        summary="What a save would do, saving nothing: diagnostics with line numbers and the unified diff",
        params=_NAME,
        errors=(409,),
    ),
    Route(
        "GET",
        "/api/config/files/<name>/history",
        None,
        ConfigHistory,
        summary="Saved versions, newest first, with who saved each and its diff against the one before",
        params=_NAME,
    ),
    Route(
        "POST",
        "/api/config/files/<name>/history/<int:version>/revert",
        ConfigRevert,
        ConfigFile,
        summary="Save that version's content as a new version (nothing is synced); 409 when `sha256` differs",
        params=_NAME,
        errors=(409,),
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

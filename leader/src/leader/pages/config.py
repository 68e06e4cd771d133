"""`/config`: the shared `config.ini` and each unit's own file — a highlighted editor whose problems show on
their lines as you type, the diff before saving, save and sync with a result per unit, and the history of
saved versions (who, when, the diff) with revert. The page reads the store; every action is an /api call."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, render_template, request

from cluster_schema.errors import NotFound
from cluster_schema.leader import Operation, Unit

from ..auth import requires
from ..config_check import diagnose
from ..config_sync_state import targets as sync_targets
from ..config_sync_state import with_sync_state
from ..db import config_files as files_db
from ..db import get_db
from ..db import operations as ops_db
from ..db import units as units_db
from ..operations.actions import SHARED_CONFIG, unit_config_name

bp = Blueprint("config", __name__, url_prefix="/config")


@dataclass
class FileEntry:
    name: str
    unit: str | None  # None: the shared file
    saved: bool
    updated_at: str | None
    unsynced: list[str]  # units without the saved version (config_sync_state); [] when not saved
    reaches: int  # how many units a sync writes it to


def _files(units: list[Unit]) -> list[FileEntry]:
    """config.ini first, then one file per registered unit (saved or not), then any other kept file."""
    db = get_db()
    kept = {f.name: f for f in with_sync_state(db, files_db.list_files(db), units)}
    names = [(SHARED_CONFIG, None)] + [(unit_config_name(u.name), u.name) for u in units]
    names += [(n, None) for n in kept if n not in {name for name, _ in names}]
    return [
        FileEntry(
            n,
            unit,
            n in kept,
            kept[n].updated_at if n in kept else None,
            kept[n].unsynced_units if n in kept else [],
            len(sync_targets(n, units)),
        )
        for n, unit in names
    ]


def _sync(op_id: str | None) -> Operation | None:
    """The sync that "Save and sync" started (the page opens on it: its steps stay after a reload)."""
    if not op_id:
        return None
    try:
        op = ops_db.get(get_db(), op_id)
    except NotFound:
        return None
    return op if op.kind == "config.sync" else None


@bp.get("")
@requires("viewer")
def index() -> str:
    db = get_db()
    units = units_db.list_units(db)
    files = _files(units)
    wanted = request.args.get("file", SHARED_CONFIG)
    entry = next((f for f in files if f.name == wanted), None)
    if entry is None:
        raise NotFound(f"No config file named {wanted!r}.")
    current = files_db.find(db, entry.name)
    content = current.content if current else ""
    targets = sync_targets(entry.name, units)  # who a sync of this file reaches
    return render_template(
        "config.html",
        sync=_sync(request.args.get("sync")),
        files=files,
        entry=entry,
        content=content,
        sha256=current.sha256 if current else "",
        diagnostics=diagnose(content, entry.name) if content else [],
        history=files_db.history(db, entry.name) if current else [],
        targets=targets,
    )

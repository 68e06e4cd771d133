"""`/units` and `/units/<unit>`: presence with last-seen age, versions when known, running jobs, actions,
the latest self-test (its card kept live by htmx polling `/units/<unit>/self_test`), and the unit's recent
logs and operations (kept live by htmx polling `/units/<unit>/activity`)."""

from __future__ import annotations

import hashlib
import sqlite3
from typing import Any

import msgspec
from flask import Blueprint, Response, current_app, render_template, request

from cluster_schema.names import check_unit

from .. import __version__, contrib
from .. import self_test as self_test_read
from ..auth import requires
from ..db import activity, get_db
from ..db import logs as logs_db
from ..db import units as units_db
from ..fleet.flags import flags

bp = Blueprint("units", __name__, url_prefix="/units")
LOGS = 50


@bp.get("")
@requires("viewer")
def index() -> str:
    db = get_db()
    rows = activity.units(db)
    fleet = {u.name: u for u in units_db.list_units(db)}
    flagged = flags(list(fleet.values()), __version__)
    for row in rows:
        row["jobs"] = activity.running_on_unit(db, row["name"])
        row["versions"] = fleet[row["name"]].versions
        row["health"] = fleet[row["name"]].health
        row["flags"] = flagged.get(row["name"], [])
    plugins_enabled = bool(current_app.config["PLUGINS_ENABLED"])
    return render_template("units.html", units=rows, plugins_enabled=plugins_enabled)


@bp.get("/<unit>")
@requires("viewer")
def show(unit: str) -> str:
    db = get_db()
    found = units_db.get(db, check_unit(unit))
    presence = next(r["presence"] for r in activity.units(db) if r["name"] == found.name)
    versions = msgspec.structs.asdict(found.versions) if found.versions is not None else None
    return render_template(
        "unit.html",
        unit=found,
        presence=presence,
        versions=versions,
        health=found.health,
        jobs=activity.running_on_unit(db, found.name),
        **_activity(db, found.name),
        experiment=activity.experiment_of(db, found.name),
        job_descriptors=contrib.jobs(current_app.config["CONTRIB_DIR"]),
        st=self_test_read.read(db, found.name),
    )


@bp.get("/<unit>/self_test")
@requires("viewer")
def self_test(unit: str) -> str:
    """The self-test card's body alone: htmx polls it while a self-test starts or runs."""
    db = get_db()
    found = units_db.get(db, check_unit(unit))
    return render_template("_self_test.html", st=self_test_read.read(db, found.name))


@bp.get("/<unit>/activity")
@requires("viewer")
def activity_part(unit: str) -> Response | str:
    """The recent logs and operations alone, for htmx; 204 (htmx swaps nothing) when the page's `v` is
    what they are now."""
    db = get_db()
    found = units_db.get(db, check_unit(unit))
    context = _activity(db, found.name)
    if request.args.get("v") == context["version"]:
        return Response(status=204)
    return render_template("_unit_activity.html", unit=found, **context)


def _activity(db: sqlite3.Connection, unit: str) -> dict[str, Any]:
    recent = activity.operations(db, unit=unit, limit=10)
    logs = logs_db.page(db, unit=unit, limit=LOGS).logs
    version = hashlib.blake2b(msgspec.json.encode([recent, logs]), digest_size=8).hexdigest()
    return {"recent": recent, "logs": logs, "version": version}

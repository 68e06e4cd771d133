"""`/units` and `/units/<unit>`: presence with last-seen age, versions when known, running jobs, actions."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template

from cluster_schema.names import check_unit

from .. import contrib
from ..auth import requires
from ..db import activity, get_db
from ..db import logs as logs_db
from ..db import units as units_db

bp = Blueprint("units", __name__, url_prefix="/units")
LOGS = 50


@bp.get("")
@requires("viewer")
def index() -> str:
    db = get_db()
    rows = activity.units(db)
    for row in rows:
        row["jobs"] = activity.running_on_unit(db, row["name"])
    return render_template("units.html", units=rows)


@bp.get("/<unit>")
@requires("viewer")
def show(unit: str) -> str:
    db = get_db()
    found = units_db.get(db, check_unit(unit))
    presence = next(r["presence"] for r in activity.units(db) if r["name"] == found.name)
    versions = getattr(found, "versions", None)  # arrives with the fleet work
    return render_template(
        "unit.html",
        unit=found,
        presence=presence,
        versions=versions,
        jobs=activity.running_on_unit(db, found.name),
        recent=activity.operations(db, unit=found.name, limit=10),
        logs=logs_db.page(db, unit=found.name, limit=LOGS).logs,
        experiment=activity.experiment_of(db, found.name),
        job_descriptors=contrib.jobs(current_app.config["CONTRIB_DIR"]),
    )

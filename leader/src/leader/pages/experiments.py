"""`/experiments`: the list (search, created date, units with their labels, running jobs) and a create form;
`/experiments/<exp>`: the workspace (job controls per descriptor, unit cards, charts, logs; js/workspace.js).

Reads the store only; creating, editing and deleting are `/api/experiments` calls from static/js/actions.js.
"""

from __future__ import annotations

from dataclasses import asdict

from flask import Blueprint, current_app, render_template, request

from cluster_schema.names import check_experiment

from .. import vial
from ..auth import requires
from ..db import activity, changes, get_db
from ..db import experiments as exp_db
from . import workspace

bp = Blueprint("experiments", __name__, url_prefix="/experiments")


@bp.get("")
@requires("viewer")
def index() -> str:
    """`?part=rows`: the table's rows alone, which the page fetches again on each `experiment` event of
    GET /api/events (created, archived, restored, deleted elsewhere)."""
    db = get_db()
    since = changes.latest(db)  # read first: a change after it is sent to the page's stream, never lost
    query = request.args.get("q", "").strip()
    running = activity.running_by_experiment(db)
    rows = []
    everyone = exp_db.list_experiments(db)
    for exp in everyone:
        if query and query.casefold() not in f"{exp.name} {exp.description}".casefold():
            continue
        rows.append({"exp": exp, "running": running.get(exp.name, [])})
    if request.args.get("part") == "rows":
        return render_template("_experiments_rows.html", rows=rows, query=query)
    names = [e.name for e in everyone if not e.archived_at]  # to copy settings from
    return render_template("experiments.html", rows=rows, query=query, names=names, events_after=since)


@bp.get("/<exp>")
@requires("viewer")
def show(exp: str) -> str:
    db = get_db()
    data = workspace.load(db, check_experiment(exp), current_app.config["CONTRIB_DIR"])
    data["vials"] = [asdict(vial.vial(db, unit, exp)) for unit in data["exp"].units]  # manual dosing's limits
    return render_template("experiment.html", **data)

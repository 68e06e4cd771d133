"""`/experiments`: the list (search, created date, units with their labels, running jobs) and a create form;
`/experiments/<exp>`: the workspace (job controls per descriptor, unit cards, charts, logs; js/workspace.js).

Reads the store only; creating, editing and deleting are `/api/experiments` calls from static/js/actions.js.
"""

from __future__ import annotations

from flask import Blueprint, current_app, render_template, request

from cluster_schema.names import check_experiment

from ..auth import requires
from ..db import activity, get_db
from ..db import experiments as exp_db
from . import workspace

bp = Blueprint("experiments", __name__, url_prefix="/experiments")


@bp.get("")
@requires("viewer")
def index() -> str:
    db = get_db()
    query = request.args.get("q", "").strip()
    running = activity.running_by_experiment(db)
    rows = []
    for exp in exp_db.list_experiments(db):
        if query and query.casefold() not in f"{exp.name} {exp.description}".casefold():
            continue
        rows.append({"exp": exp, "running": running.get(exp.name, [])})
    return render_template("experiments.html", rows=rows, query=query)


@bp.get("/<exp>")
@requires("viewer")
def show(exp: str) -> str:
    data = workspace.load(get_db(), check_experiment(exp), current_app.config["CONTRIB_DIR"])
    return render_template("experiment.html", **data)

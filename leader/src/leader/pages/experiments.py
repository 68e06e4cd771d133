"""`/experiments`: the list (search, created date, units with their labels, running jobs) and a create form.

Reads the store only; creating, editing and deleting are `/api/experiments` calls from static/js/actions.js.
"""

from __future__ import annotations

from flask import Blueprint, render_template, request

from ..auth import requires
from ..db import activity, get_db
from ..db import experiments as exp_db

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

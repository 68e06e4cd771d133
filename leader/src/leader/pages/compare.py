"""`/experiments/compare?e=<exp>&e=<exp>…&chart=<chart key>`: one chart of 2-6 experiments overlaid, on hours
since each one's start (js/compare_chart.js draws it from each experiment's /time_series). Reached from
the checkboxes of /experiments. What it shows is checked in comparison.py.
"""

from __future__ import annotations

from flask import Blueprint, current_app, render_template, request

from ..auth import requires
from ..db import experiments as exp_db
from ..db import get_db
from . import comparison, experiments

bp = Blueprint("compare", __name__)


@bp.get("/experiments/compare")
@requires("viewer")
def compare() -> tuple[str, int]:
    if not request.args and exp_db.exists(get_db(), "compare"):
        # an experiment named "compare" keeps its page at /experiments/compare (this rule wins the path)
        return experiments.show("compare"), 200
    view = comparison.load(
        get_db(), request.args.getlist("e"), request.args.get("chart"), current_app.config["CONTRIB_DIR"]
    )
    return render_template("compare.html", view=view), view.status

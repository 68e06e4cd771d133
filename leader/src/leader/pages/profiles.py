"""`/profiles` (saved profiles, runs in progress) and `/profiles/<name>` (the YAML editor with diagnostics on
their lines, a timeline per unit, run / dry run on an experiment, its runs with their plan live, cancel)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from cluster_schema.errors import NotFound
from cluster_schema.leader import Operation
from cluster_schema.names import check_file_name

from ..auth import requires
from ..db import experiments as exp_db
from ..db import get_db
from ..db import operations as ops_db
from ..db import profiles as store
from ..profiles import plan as planner
from ..profiles.validate import load

bp = Blueprint("profiles", __name__, url_prefix="/profiles")

TEMPLATE = """version: "1.0"
experiment_profile_name: {name}
metadata:
  author: ""
  description: ""
common:
  jobs:
    stirring:
      actions:
        - {{type: start, t: 0s, options: {{target_rpm: 400}}}}
        - {{type: stop, t: 1h}}
"""


def _runs(profile: str | None = None) -> list[Operation]:
    db = get_db()
    ops = [
        ops_db.get(db, op_id)
        for op_id in [
            r[0]
            for r in db.execute(
                "SELECT id FROM operations WHERE kind = 'profile.run' ORDER BY created_at DESC LIMIT 20"
            )
        ]
    ]
    return [op for op in ops if profile is None or op.params.get("profile") == profile]


def _timeline(text: str) -> dict[str, list[dict[str, Any]]]:
    """Per unit (`all units` for the common block), the top-level actions by their offset from the start."""
    result = load(text)
    if result.profile is None:
        return {}
    profile = result.profile
    units = list(profile.pioreactors)
    rows, _ = planner.plan(profile, 0.0, ["all units"], units, experiment="")  # all its units: no warning
    out: dict[str, list[dict[str, Any]]] = {}
    for r in sorted(rows, key=lambda r: (r.at, r.priority)):
        out.setdefault(r.unit, []).append({"after": after(r.at), "job": r.job, "action": r.action})
    return out


def after(seconds: float) -> str:
    """An offset as a person reads it: `+30 s`, `+1 min 30 s`, `+1 h 30 min`, `+2 d 6 h` (not `+5400 s`)."""
    for size, name in ((86400.0, "d"), (3600.0, "h"), (60.0, "min")):
        if seconds >= size:
            whole, rest = divmod(seconds, size)
            return f"+{whole:g} {name}" + (" " + after(rest)[1:] if rest else "")
    return f"+{round(seconds, 3):g} s"


@bp.get("")
@requires("viewer")
def index() -> str | Response:
    if request.args.get("name"):  # the "New profile" form: open the editor on that name
        return redirect(url_for("profiles.show", name=check_file_name(request.args["name"], "name")))
    db = get_db()
    active = [op for op in _runs() if op.status in ("queued", "running")]
    return render_template("profiles.html", profiles=store.list_profiles(db), active=active)


@bp.get("/<name>")
@requires("viewer")
def show(name: str) -> str:
    db = get_db()
    check_file_name(name)
    try:
        text, saved = store.get_yaml(db, name), True
    except NotFound:
        text, saved = TEMPLATE.format(name=name), False
    return render_template(
        "profile.html",
        name=name,
        text=text,
        saved=saved,
        diagnostics=load(text).diagnostics,
        timeline=_timeline(text),
        experiments=[e.name for e in exp_db.list_experiments(db)],
        runs=_runs(name),
    )

"""`/`: the cluster at a glance, from the store alone. `/fragments/dashboard` is the live part htmx polls."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from flask import Blueprint, current_app, render_template

from .. import host
from ..auth import requires
from ..db import activity, get_db
from .shell import lab_zone

bp = Blueprint("dashboard", __name__)

RECENT = 10
PRESENCES = ("online", "offline", "lost", "unknown")


def _since(days: int) -> str:
    return (datetime.now(UTC) - timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%S")


def live_context() -> dict[str, Any]:
    db = get_db()
    units = activity.units(db)
    counts = {p: sum(1 for u in units if u["presence"] == p) for p in PRESENCES}
    data_dir = Path(current_app.config["DATABASE"]).parent
    return {
        "units": units,
        "counts": counts,
        "running": activity.running_by_experiment(db),
        "recent": activity.operations(db, limit=RECENT),
        "disk": host.disk(str(data_dir if data_dir.is_dir() else current_app.instance_path)),
        "memory": host.memory(),
    }


@bp.get("/")
@requires("viewer")
def index() -> str:
    db = get_db()
    figures = {7: activity.kind_figures(db, _since(7)), 30: activity.kind_figures(db, _since(30))}
    days = activity.per_day(db, _since(31), lab_zone(), 30)
    chart = {
        "days": [d.isoformat() for d, _, _ in days],
        "succeeded": [ok for _, ok, _ in days],
        "other": [other for _, _, other in days],
    }
    return render_template("dashboard.html", figures=figures, chart=chart, **live_context())


@bp.get("/fragments/dashboard")
@requires("viewer")
def live() -> str:
    return render_template("_dashboard_live.html", **live_context())

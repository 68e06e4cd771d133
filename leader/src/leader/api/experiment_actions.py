"""/api/experiments/<exp>/end and the manual actions (dosing by mL or seconds, LED intensities): each an
operation through the one fan-out, refused before anything is queued when the input is bad (400 naming
the field) or a dose would fill a vial above its safe fill volume (leader/vial.py)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response

from cluster_schema.errors import Conflict, NotFound
from cluster_schema.leader import OperationAnswer
from cluster_schema.lifecycle import DOSE_JOBS, DoseBody, DoseRequest, LedRequest
from cluster_schema.names import check_experiment
from cluster_schema.openapi import WAIT, Route, enum

from .. import vial
from ..auth import requires
from ..db import experiments as exp_db
from ..db import get_db
from ..http import body
from ..operations.lifecycle import END
from ..operations.submit import start, trigger
from .jobs import _targets

bp = Blueprint("experiment_actions", __name__)


@bp.post("/experiments/<exp>/end")
@requires("operator")
def end(exp: str) -> Response:
    """Stop every job of the experiment on each assigned unit, then unassign the units whose jobs stopped."""
    check_experiment(exp)
    units = exp_db.assigned_units(get_db(), exp)
    if not units:
        raise Conflict(f"Experiment {exp!r} has no units assigned: nothing to end.", code="no_targets")
    return start(END, {"experiment": exp}, units)


def _source() -> str:
    return "UI" if trigger() == "ui" else "API"  # pio's `--source-of-event`, as Pioreactor's UI sends it


def _manual(exp: str, job: str, options: dict[str, Any], targets: list[str]) -> Response:
    params = {"experiment": exp, "job": job, "options": {**options, "source_of_event": _source()}}
    return start(f"manual.{job}", params, targets)


@bp.post("/experiments/<exp>/actions/<action>")
@requires("operator")
def dose(exp: str, action: str) -> Response:
    """`pio run <action> --ml=N` or `--duration=S` on each unit; filling above the safe fill: 400."""
    check_experiment(exp)
    if action not in DOSE_JOBS:
        raise NotFound(f"No manual action {action!r}: one of {', '.join(DOSE_JOBS)}, led_intensity.")
    req = body(DoseRequest)
    targets = _targets(exp, req.units)
    amount = req.amount
    vial.check_dose(get_db(), exp, action, targets, amount.get("ml"), amount.get("duration"))
    return _manual(exp, action, dict(amount), targets)


@bp.post("/experiments/<exp>/actions/led_intensity")
@requires("operator")
def led_intensity(exp: str) -> Response:
    """`pio run led_intensity --A=50 ...`: each channel given, 0-100 %."""
    check_experiment(exp)
    req = body(LedRequest)
    options: dict[str, Any] = dict(sorted(req.intensities.items()))
    return _manual(exp, "led_intensity", options, _targets(exp, req.units))


def _operation(path: str, request: Any, summary: str, **extra: Any) -> Route:
    return Route(
        "POST",
        path,
        request,
        OperationAnswer,
        202,
        summary,
        (409,),
        query={"wait": WAIT},
        headers=("Location",),
        **extra,
    )


ROUTES = [
    _operation(
        "/api/experiments/<exp>/end",
        None,
        "End: stop the experiment's jobs on every assigned unit, then unassign the units whose jobs stopped",
    ),
    _operation(
        "/api/experiments/<exp>/actions/<action>",
        DoseBody,
        "Add media, remove waste or add alternative media by `ml` or `seconds` "
        "(400 when a vial would fill above its model's safe fill volume)",
        params={"action": enum(DOSE_JOBS)},
    ),
    _operation(
        "/api/experiments/<exp>/actions/led_intensity", LedRequest, "Set LED intensities (A-D, 0-100 %)"
    ),
]

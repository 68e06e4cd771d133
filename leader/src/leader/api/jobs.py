"""/api/experiments/<exp>/jobs: start, stop, change settings across an experiment's units (operations)."""

from __future__ import annotations

from flask import Blueprint, Response, current_app

from cluster_schema.additions import JobUnitsRequest
from cluster_schema.errors import Conflict
from cluster_schema.leader import (
    JobStartRequest,
    JobStopRequest,
    OperationAnswer,
    RunningJob,
    SettingsPatch,
)
from cluster_schema.names import check_experiment, check_job
from cluster_schema.openapi import WAIT, Route

from ..auth import requires
from ..db import experiments as exp_db
from ..db import get_db, job_states
from ..db import units as units_db
from ..http import body, json_response
from ..job_requests import settings_params, start_params
from ..operations.actions import JOB_STATES
from ..operations.submit import start

bp = Blueprint("jobs", __name__)


def _targets(exp: str, units: list[str] | None) -> list[str]:
    """The units given (each must be assigned), or every assigned unit that is active."""
    db = get_db()
    assigned = exp_db.assigned_units(db, exp)
    if units is None:
        active = set(units_db.active_names(db))
        return [u for u in assigned if u in active]
    outside = [u for u in units if u not in assigned]
    if outside:
        raise Conflict(f"Unit(s) not assigned to experiment {exp!r}: {', '.join(outside)} (at `$.units`).")
    return units


@bp.post("/experiments/<exp>/jobs/<job>/start")
@requires("operator")
def start_job(exp: str, job: str) -> Response:
    check_experiment(exp), check_job(job, "job")
    req = body(JobStartRequest)
    targets = _targets(exp, req.units)
    params = start_params(
        current_app.config["CONTRIB_DIR"],
        exp,
        job,
        options=req.options,
        args=req.args,
        env=req.env,
        config_overrides=req.config_overrides,
    )
    return start("job.start", params, targets)


@bp.post("/experiments/<exp>/jobs/<job>/stop")
@requires("operator")
def stop_job(exp: str, job: str) -> Response:
    check_experiment(exp), check_job(job, "job")
    req = body(JobStopRequest)
    return start("job.stop", {"experiment": exp, "job": job}, _targets(exp, req.units))


@bp.post("/experiments/<exp>/jobs/stop")
@requires("operator")
def stop_all(exp: str) -> Response:
    check_experiment(exp)
    req = body(JobStopRequest)
    return start("jobs.stop_all", {"experiment": exp}, _targets(exp, req.units))


@bp.patch("/experiments/<exp>/jobs/<job>/settings")
@requires("operator")
def settings(exp: str, job: str) -> Response:
    check_experiment(exp), check_job(job, "job")
    req = body(SettingsPatch)
    targets = _targets(exp, req.units)
    params = settings_params(current_app.config["CONTRIB_DIR"], exp, job, req.settings)
    return start("job.settings", params, targets)


def _set_state(kind: str, exp: str, job: str) -> Response:
    check_experiment(exp), check_job(job, "job")
    req = body(JobUnitsRequest)
    params = {"experiment": exp, "job": job, "state": JOB_STATES[kind]}
    return start(kind, params, _targets(exp, req.units))


@bp.post("/experiments/<exp>/jobs/<job>/pause")
@requires("operator")
def pause(exp: str, job: str) -> Response:
    """The job's `$state` → sleeping on each unit (already sleeping is ok)."""
    return _set_state("job.pause", exp, job)


@bp.post("/experiments/<exp>/jobs/<job>/resume")
@requires("operator")
def resume(exp: str, job: str) -> Response:
    """The job's `$state` → ready on each unit (already ready is ok)."""
    return _set_state("job.resume", exp, job)


@bp.get("/experiments/<exp>/jobs/running")
@requires("viewer")
def running(exp: str) -> Response:
    """From the ingested MQTT state: a read never fans out to the agents."""
    check_experiment(exp)
    units = set(exp_db.assigned_units(get_db(), exp))
    return json_response([j for j in job_states.running_jobs(get_db(), exp) if j.unit in units])


def _operation(method: str, path: str, request: type, summary: str) -> Route:
    """409: a unit given is not assigned to the experiment, or no unit would be acted on. 400 (start and
    settings): a value outside what the job's descriptor allows, naming the field."""
    return Route(
        method,
        path,
        request,
        OperationAnswer,
        202,
        summary,
        (400, 409),
        query={"wait": WAIT},
        headers=("Location",),
    )


ROUTES = [
    _operation("POST", "/api/experiments/<exp>/jobs/<job>/start", JobStartRequest, "Start a job"),
    _operation("POST", "/api/experiments/<exp>/jobs/<job>/stop", JobStopRequest, "Stop a job"),
    _operation("POST", "/api/experiments/<exp>/jobs/stop", JobStopRequest, "Stop every job"),
    _operation("PATCH", "/api/experiments/<exp>/jobs/<job>/settings", SettingsPatch, "Change settings"),
    _operation(
        "POST", "/api/experiments/<exp>/jobs/<job>/pause", JobUnitsRequest, "Pause a job (state: sleeping)"
    ),
    _operation(
        "POST", "/api/experiments/<exp>/jobs/<job>/resume", JobUnitsRequest, "Resume a job (state: ready)"
    ),
    Route(
        "GET", "/api/experiments/<exp>/jobs/running", None, list[RunningJob], summary="Running jobs per unit"
    ),
]

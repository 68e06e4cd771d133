"""Jobs: run and stop (worker tasks), running jobs and their settings (from memory), settings changes."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response

from cluster_schema.agent import (
    AgentRunningJob,
    JobSettings,
    RunJobRequest,
    SettingsUpdateRequest,
    StopJobsRequest,
    StopJobsSchema,
    TaskAnswer,
)
from cluster_schema.codec import to_builtins
from cluster_schema.errors import NotFound
from cluster_schema.names import ExperimentName, check_experiment, check_job
from cluster_schema.openapi import Route

from ..http import body, json_response, query_arg
from ..registry import JobRow
from ..state import parse_value
from . import agent, enqueue

bp = Blueprint("jobs", __name__, url_prefix="/unit_api/jobs")


@bp.post("/run/job_name/<job>")
def run(job: str) -> Response:
    check_job(job, "job_name")
    req = body(RunJobRequest)
    a = agent()
    a.pio.run_args(job, req)  # refuse here what the worker would refuse: 400 before anything is queued
    a.pio.env(req.env, req.experiment)
    return enqueue("run_job", job, to_builtins(req))


@bp.post("/stop")
def stop() -> Response:
    return enqueue("stop_jobs", to_builtins(body(StopJobsRequest)))


def _state_and_settings(row: JobRow) -> tuple[str | None, dict[str, Any]]:
    """The job writes each value to the registry and publishes it on MQTT; either copy may be the newer
    one for a moment, so per setting the later-written wins."""
    a = agent()
    values = dict(a.registry.published_settings_at(row.job_id))
    for name, entry in a.mirror.job_entries(row.experiment, row.job_name).items():
        if entry.wall >= values.get(name, ("", 0.0))[1]:
            values[name] = (entry.payload, entry.wall)
    state = values.pop("$state", (None, 0.0))[0]
    return state, {k: parse_value(v) for k, (v, _) in values.items() if not k.startswith("$")}


@bp.get("/running")
def running() -> Response:
    jobs = []
    for r in agent().registry.running():
        state, settings = _state_and_settings(r)
        jobs.append(
            AgentRunningJob(
                job_id=r.job_id,
                job_name=r.job_name,
                experiment=r.experiment,
                job_source=r.job_source,
                pid=r.pid,
                started_at=r.started_at,
                state=state,
                settings=settings,
            )
        )
    return json_response(jobs)


def _running_rows(job: str, experiment: str | None) -> list[JobRow]:
    check_job(job, "job_name")
    if experiment is not None:
        check_experiment(experiment, "experiment")
    rows = agent().registry.running(job_name=job, experiment=experiment)
    if not rows:
        raise NotFound(f"Job `{job}` is not running on this unit.")
    return rows


@bp.get("/settings/job_name/<job>")
def get_settings(job: str) -> Response:
    rows = _running_rows(job, query_arg("experiment"))
    return json_response(JobSettings(settings=_state_and_settings(rows[0])[1]))


@bp.patch("/settings/job_name/<job>")
def patch_settings(job: str) -> Response:
    req = body(SettingsUpdateRequest)
    _running_rows(job, req.experiment)
    return enqueue("update_settings", job, to_builtins(req))


ROUTES = [
    Route(
        "POST",
        "/unit_api/jobs/run/job_name/<job>",
        RunJobRequest,
        TaskAnswer,
        202,
        "Run a job (a worker task)",
        headers=("Location",),
    ),
    Route("POST", "/unit_api/jobs/stop", StopJobsSchema, TaskAnswer, 202, "Stop jobs", headers=("Location",)),
    Route("GET", "/unit_api/jobs/running", None, list[AgentRunningJob], summary="Running jobs"),
    Route(
        "GET",
        "/unit_api/jobs/settings/job_name/<job>",
        None,
        JobSettings,
        summary="A running job's settings (404 when it is not running)",
        query={"experiment": ExperimentName},
    ),
    Route(
        "PATCH",
        "/unit_api/jobs/settings/job_name/<job>",
        SettingsUpdateRequest,
        TaskAnswer,
        202,
        "Change a running job's settings",
        headers=("Location",),
    ),
]

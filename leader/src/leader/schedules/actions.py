"""What a schedule's action asks for, checked against the store: when saved (400) and again when fired.

`check()` refuses an action whose experiment, job or datasets are unknown, naming the field (nothing is
stored). `plan()` turns an action into the operation the API would submit for the same request — kind,
params, target units — or raises `Vanished` saying why it can no longer run; the firing then records a
failed operation with that reason.

A job is known when a contrib job descriptor names it (`GET /api/contrib/jobs`): the API starts any job name
at once and shows the agent's answer, but a schedule fires later, unattended, so a typo must fail when it
is saved.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import Any

from flask import Flask

from cluster_schema.errors import BadRequest, NotFound
from cluster_schema.schedules import (
    Action,
    ExportAction,
    JobSettingsAction,
    JobStartAction,
    ProfileRunAction,
    StopAllAction,
)

from .. import contrib, exports, job_requests
from ..db import experiments as exp_db
from ..db import profiles as profiles_db
from ..db import units as units_db
from ..operations.actions import ACTIONS


class Vanished(Exception):
    """The action's target no longer exists (or never can run); the message says why."""


@dataclass(frozen=True)
class Plan:
    kind: str
    params: dict[str, Any]
    targets: list[str]
    needs_targets: bool = True


def _experiment_exists(db: sqlite3.Connection, name: str) -> bool:
    try:
        exp_db.get(db, name)
    except NotFound:
        return False
    return True


def _job_known(app: Flask, job: str) -> bool:
    return any(d.job_name == job for d in contrib.jobs(app.config["CONTRIB_DIR"]))


UNKNOWN = "unknown_target"  # well-formed, but names what the store lacks


def _known_jobs(app: Flask) -> str:
    return ", ".join(d.job_name for d in contrib.jobs(app.config["CONTRIB_DIR"]))


def check(db: sqlite3.Connection, app: Flask, action: Action) -> None:
    """Raise BadRequest (400, `unknown_target`) naming the field when the action targets something the store
    lacks: the schedules issue asks for 400 here, as for any other bad field of a schedule."""
    if isinstance(action, ExportAction):
        named = action.experiments if isinstance(action.experiments, list) else []  # or a keyword ("all")
        for i, exp in enumerate(named):
            if not _experiment_exists(db, exp):
                raise BadRequest(f"Unknown experiment at `$.action.experiments[{i}]`: {exp!r}.", code=UNKNOWN)
        if action.format not in exports.FORMATS:
            raise BadRequest(
                f"Not available at `$.action.format`: one of {', '.join(exports.FORMATS)}.",
                code="not_available",
            )
        available = exports.datasets(app)
        for i, name in enumerate(action.datasets):
            if name not in available:
                raise BadRequest(
                    f"Unknown dataset at `$.action.datasets[{i}]`: {name!r}; one of {', '.join(available)}."
                )
        return
    if not _experiment_exists(db, action.experiment):
        raise BadRequest(f"Unknown experiment at `$.action.experiment`: {action.experiment!r}.", code=UNKNOWN)
    if isinstance(action, ProfileRunAction):
        try:
            profiles_db.get_yaml(db, action.profile)
        except NotFound:
            raise BadRequest(
                f"Unknown profile at `$.action.profile`: {action.profile!r}.", code=UNKNOWN
            ) from None
    job = getattr(action, "job", None)
    if job is not None and not _job_known(app, job):
        raise BadRequest(f"Unknown job at `$.action.job`: {job!r}; one of {_known_jobs(app)}.", code=UNKNOWN)
    if isinstance(action, JobStartAction):  # the descriptor's bounds, as the API checks a start (400)
        job_requests.check_options(app.config["CONTRIB_DIR"], action.job, action.options, "$.action.options")
    if isinstance(action, JobSettingsAction):
        job_requests.check_settings(
            app.config["CONTRIB_DIR"], action.job, action.settings, "$.action.settings"
        )


def _targets(db: sqlite3.Connection, experiment: str, units: list[str] | None) -> list[str]:
    """As the API resolves them: the units given (each still assigned), else every active assigned unit."""
    assigned = exp_db.assigned_units(db, experiment)
    if units is None:
        active = set(units_db.active_names(db))
        targets = [u for u in assigned if u in active]
        if not targets:
            raise Vanished(f"experiment {experiment!r} has no active units assigned")
        return targets
    outside = [u for u in units if u not in assigned]
    if outside:
        raise Vanished(f"unit(s) no longer assigned to experiment {experiment!r}: {', '.join(outside)}")
    return units


def plan(db: sqlite3.Connection, app: Flask, action: Action) -> Plan:
    """The operation to submit for `action` now, or Vanished."""
    try:
        check(db, app, action)
    except BadRequest as exc:
        raise Vanished(exc.message.replace("Unknown", "unknown", 1)) from None
    params: dict[str, Any]
    if isinstance(action, ExportAction):
        # as the API builds them, as of this firing (`all` and `last_hours` resolved now)
        params = exports.params(db, app, action, action.datasets or exports.datasets(app))
        return Plan(exports.KIND, params, [], needs_targets=False)
    if isinstance(action, ProfileRunAction):  # started by `leader.profiles.runs` (its plan with it)
        return Plan("profile.run", {"experiment": action.experiment, "profile": action.profile}, [], False)
    targets = _targets(db, action.experiment, action.units)
    contrib_dir = app.config["CONTRIB_DIR"]
    if isinstance(action, JobStartAction):  # built (and checked) as the API builds them
        params = job_requests.start_params(
            contrib_dir,
            action.experiment,
            action.job,
            options=action.options,
            args=action.args,
            env=action.env,
            config_overrides=action.config_overrides,
            at="$.action",
        )
        return Plan("job.start", params, targets)
    if isinstance(action, JobSettingsAction):
        params = job_requests.settings_params(
            contrib_dir, action.experiment, action.job, action.settings, at="$.action"
        )
        return Plan("job.settings", params, targets)
    if isinstance(action, StopAllAction):
        return Plan("jobs.stop_all", {"experiment": action.experiment}, targets)
    # job.stop, job.pause, job.resume: the same params as the API's
    kind = type(action).__struct_config__.tag
    assert isinstance(kind, str)
    if kind not in ACTIONS:  # a kind this leader's engine cannot run yet must fail, not wait queued
        raise Vanished(f"this leader cannot run {kind} operations yet")
    return Plan(kind, {"experiment": action.experiment, "job": action.job}, targets)

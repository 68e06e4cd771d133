"""/api/profiles: Pioreactor experiment profiles saved, validated, and run on an experiment.

A run is one `profile.run` operation with its plan (see `leader.profiles.driver`); the plan's first rows are
stored with the operation, in its transaction, so the driver never sees a run without them.
"""

from __future__ import annotations

import importlib
import sqlite3
import time
from typing import Any, cast

from flask import Blueprint, Flask, Response
from flask.blueprints import BlueprintSetupState

from cluster_schema.errors import ApiError, BadRequest
from cluster_schema.leader import OperationAnswer
from cluster_schema.names import check_experiment, check_file_name
from cluster_schema.openapi import Route
from cluster_schema.profiles import (
    Diagnostic,
    DiagnosticsAnswer,
    InvalidProfile,
    Profile,
    ProfileAnswer,
    ProfilePut,
    ProfileRunRequest,
    ProfileSummary,
    ProfileValidate,
)

from .. import tasks
from ..auth import requires
from ..db import experiments as exp_db
from ..db import get_db, transaction
from ..db import operations as ops_db
from ..db import profiles as store
from ..db import units as units_db
from ..http import body, json_response
from ..operations.submit import accepted, requester, trigger
from ..profiles import plan as planner
from ..profiles.validate import Result, load

bp = Blueprint("profiles", __name__)
KIND = "profile.run"


class ProfileInvalid(BadRequest):
    code = "invalid_profile"

    def __init__(self, diagnostics: list[Diagnostic]) -> None:
        first = next(d for d in diagnostics if d.severity == "error")
        where = f" (at `{first.path}`)" if first.path else ""
        super().__init__(f"Invalid profile: {first.message}{where}")
        self.diagnostics = diagnostics

    def body(self) -> Any:
        return InvalidProfile(error=self.code, message=self.message, diagnostics=self.diagnostics)


@bp.record_once
def _register_task(state: BlueprintSetupState) -> None:
    app = cast(Flask, state.app)

    @app.extensions["leader.huey"].task(name="run_profile")
    def run_profile(_op_id: str) -> None:
        # the driver thread in the worker does the running; the task only wakes it
        driver = app.extensions.get("leader.profile_driver")
        if driver is not None:
            driver.wake()

    tasks.register_kind(app, KIND, run_profile)


def _valid(text: str) -> Result:
    result = load(text)
    if not result.ok:
        raise ProfileInvalid(result.diagnostics)
    return result


@bp.get("/profiles")
@requires("viewer")
def list_profiles() -> Response:
    return json_response(store.list_profiles(get_db()))


@bp.post("/profiles/validate")
@requires("viewer")
def validate() -> Response:
    return json_response(DiagnosticsAnswer(diagnostics=load(body(ProfileValidate).yaml).diagnostics))


@bp.get("/profiles/<name>")
@requires("viewer")
def get_profile(name: str) -> Response:
    text = store.get_yaml(get_db(), check_file_name(name))
    return json_response(ProfileAnswer(name=name, yaml=text, diagnostics=load(text).diagnostics))


@bp.put("/profiles/<name>")
@requires("operator")
def put_profile(name: str) -> Response:
    check_file_name(name)
    text = body(ProfilePut).yaml
    result = _valid(text)
    assert result.profile is not None
    profile = result.profile
    created = store.put(get_db(), name, profile.experiment_profile_name, profile.metadata.description, text)
    return json_response(
        ProfileAnswer(name=name, yaml=text, diagnostics=result.diagnostics), 201 if created else 200
    )


@bp.delete("/profiles/<name>")
@requires("operator")
def delete_profile(name: str) -> Response:
    store.delete(get_db(), check_file_name(name))
    return Response(status=204)


@bp.post("/experiments/<exp>/profiles/<name>/run")
@requires("operator")
def run(exp: str, name: str) -> Response:
    check_experiment(exp), check_file_name(name)
    req = body(ProfileRunRequest)
    db = get_db()
    exp_db.get(db, exp)
    text = store.get_yaml(db, name)
    result = _valid(text)
    assert result.profile is not None
    assigned = exp_db.assigned_units(db, exp)
    active = set(units_db.active_names(db))
    started = time.time()
    rows, warnings = planner.plan(result.profile, started, [u for u in assigned if u in active], assigned)
    targets = sorted({r.unit for r in rows})
    params = {"experiment": exp, "profile": name, "dry_run": req.dry_run, "started": started, "yaml": text}
    with transaction(db):  # the run and its first rows become visible to the driver together
        op = ops_db.create(db, KIND, params, targets, trigger(), requester())
        store.add_rows(db, op.id, rows)
        for w in warnings:
            ops_db.add_line(db, op.id, "warning", f"{w.message} ({w.path})")
        if not req.dry_run:
            _labels(db, op.id, exp, result.profile, set(assigned))
    tasks.enqueue(op.id, KIND)
    return accepted(ops_db.get(db, op.id))


def _labels(db: sqlite3.Connection, run_id: str, exp: str, profile: Profile, assigned: set[str]) -> None:
    """`pioreactors.<unit>.label` becomes the unit's label in the experiment (as Pioreactor pushes it);
    a label refused (taken by another unit) is a warning, as the real runner swallows it."""
    try:
        labels = importlib.import_module("leader.db.labels")  # the contract's unit labels, when present
    except ImportError:
        labels = None
    for unit, block in profile.pioreactors.items():
        if block.label is None or unit not in assigned:
            continue
        if labels is None:
            ops_db.add_line(db, run_id, "warning", f"label {block.label!r} for {unit}: no unit labels here")
            continue
        try:
            labels.put(db, exp, unit, block.label)
            ops_db.add_line(db, run_id, "info", f"{unit} labelled {block.label!r}", unit)
        except ApiError as exc:
            ops_db.add_line(db, run_id, "warning", f"label {block.label!r} for {unit}: {exc.message}", unit)


ROUTES = [
    Route("GET", "/api/profiles", None, list[ProfileSummary], summary="Saved experiment profiles"),
    Route("GET", "/api/profiles/<name>", None, ProfileAnswer, summary="A profile's YAML and diagnostics"),
    Route("PUT", "/api/profiles/<name>", ProfilePut, ProfileAnswer, 200, "Save a profile (201 when new)"),
    Route("DELETE", "/api/profiles/<name>", None, None, 204, "Delete a profile"),
    Route(
        "POST", "/api/profiles/validate", ProfileValidate, DiagnosticsAnswer, summary="Validate, save nothing"
    ),
    Route(
        "POST",
        "/api/experiments/<exp>/profiles/<name>/run",
        ProfileRunRequest,
        OperationAnswer,
        202,
        "Run (or dry-run) a profile on an experiment: a `profile.run` operation with its plan",
    ),
]

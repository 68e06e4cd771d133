"""/api/profiles: Pioreactor experiment profiles saved, validated, and run on an experiment.

A run is one `profile.run` operation with its plan (`leader.profiles.runs` starts it,
`leader.profiles.driver` in the worker runs it).
"""

from __future__ import annotations

from typing import Annotated, cast

from flask import Blueprint, Flask, Response, current_app
from flask.blueprints import BlueprintSetupState
from msgspec import Meta
from werkzeug.routing import BaseConverter

from cluster_schema.additions import ProfileRunAnswer
from cluster_schema.leader import Operation
from cluster_schema.names import FILE_MAX, FILE_PATTERN, check_experiment, check_file_name
from cluster_schema.openapi import WAIT, Route
from cluster_schema.profiles import (
    DiagnosticsAnswer,
    ProfileAnswer,
    ProfilePut,
    ProfileRunRequest,
    ProfileSummary,
    ProfileValidate,
)

from .. import tasks
from ..auth import requires
from ..db import get_db
from ..db import profiles as store
from ..http import MAX_WAIT, body, json_response, query_float
from ..operations.submit import accepted, requester, trigger
from ..profiles import bounds, runs
from ..profiles.validate import load

bp = Blueprint("profiles", __name__)
KIND = runs.KIND


class ProfileNameConverter(BaseConverter):
    """`<profile:name>`: any segment but `validate`, so that /api/profiles/validate is that route's alone
    (its OPTIONS and 405s list its methods only, not those of a profile named so)."""

    regex = r"(?!validate$)[^/]+"


# FileName, minus the route beside it; a profile cannot be named `validate`
ProfileName = Annotated[
    str,
    Meta(
        pattern=FILE_PATTERN,
        min_length=1,
        max_length=FILE_MAX,
        extra_json_schema={"not": {"const": "validate"}},
    ),
]


@bp.record_once
def _register_task(state: BlueprintSetupState) -> None:
    app = cast(Flask, state.app)
    app.url_map.converters["profile"] = ProfileNameConverter  # before the routes below are added

    @app.extensions["leader.huey"].task(name="run_profile")
    def run_profile(_op_id: str) -> None:
        # the driver thread in the worker does the running; the task only wakes it
        driver = app.extensions.get("leader.profile_driver")
        if driver is not None:
            driver.wake()

    tasks.register_kind(app, KIND, run_profile)


@bp.get("/profiles")
@requires("viewer")
def list_profiles() -> Response:
    return json_response(store.list_profiles(get_db()))


@bp.post("/profiles/validate")
@requires("viewer")
def validate() -> Response:
    text = body(ProfileValidate).yaml
    result = load(text)
    found = result.diagnostics
    if result.profile is not None:  # options checked against the descriptors: warnings only (bounds.py)
        found = found + bounds.warnings(result.profile, text, current_app.config["CONTRIB_DIR"])
    return json_response(DiagnosticsAnswer(diagnostics=found))


@bp.get("/profiles/<profile:name>")
@requires("viewer")
def get_profile(name: str) -> Response:
    text = store.get_yaml(get_db(), check_file_name(name))
    return json_response(ProfileAnswer(name=name, yaml=text, diagnostics=load(text).diagnostics))


@bp.put("/profiles/<profile:name>")
@requires("operator")
def put_profile(name: str) -> Response:
    check_file_name(name)
    text = body(ProfilePut).yaml
    result = runs.valid(text)
    assert result.profile is not None
    profile = result.profile
    created = store.put(get_db(), name, profile.experiment_profile_name, profile.metadata.description, text)
    return json_response(
        ProfileAnswer(name=name, yaml=text, diagnostics=result.diagnostics), 201 if created else 200
    )


@bp.delete("/profiles/<profile:name>")
@requires("operator")
def delete_profile(name: str) -> Response:
    store.delete(get_db(), check_file_name(name))
    return Response(status=204)


@bp.post("/experiments/<exp>/profiles/<name>/run")
@requires("operator")
def run(exp: str, name: str) -> Response:
    check_experiment(exp), check_file_name(name)
    req = body(ProfileRunRequest)
    query_float("wait", 0.0, hi=MAX_WAIT)  # refused before anything is stored
    started = runs.start(
        get_db(), exp, name, dry_run=req.dry_run, trigger=trigger(), requested_by=requester()
    )

    def answer(op: Operation) -> ProfileRunAnswer:
        return ProfileRunAnswer(operation=op, warnings=started.warnings)

    return accepted(started.operation, answer)


_NAME = {"name": ProfileName}
# `validate` is not a profile name: that URL is POST /api/profiles/validate, 405 for other methods
_NOT_VALIDATE = (405,)
ROUTES = [
    Route("GET", "/api/profiles", None, list[ProfileSummary], summary="Saved experiment profiles"),
    Route(
        "GET",
        "/api/profiles/<profile:name>",
        None,
        ProfileAnswer,
        summary="A profile's YAML and diagnostics",
        params=_NAME,
        errors=_NOT_VALIDATE,
    ),
    Route(
        "PUT",
        "/api/profiles/<profile:name>",
        ProfilePut,
        ProfileAnswer,
        200,
        "Save a profile (201 when new; 400 `invalid_profile` with its diagnostics)",
        params=_NAME,
        errors=_NOT_VALIDATE,
        answers={201: ProfileAnswer},
    ),
    Route(
        "DELETE",
        "/api/profiles/<profile:name>",
        None,
        None,
        204,
        "Delete a profile",
        _NOT_VALIDATE,
        params=_NAME,
    ),
    Route(
        "POST", "/api/profiles/validate", ProfileValidate, DiagnosticsAnswer, summary="Validate, save nothing"
    ),
    Route(
        "POST",
        "/api/experiments/<exp>/profiles/<name>/run",
        ProfileRunRequest,
        ProfileRunAnswer,
        202,
        "Run (or dry-run) a profile on an experiment: a `profile.run` operation with its plan, and "
        "`warnings` (a `pioreactors` unit not in the experiment)",
        query={"wait": WAIT},
        headers=("Location",),
    ),
]

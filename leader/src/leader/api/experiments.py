"""/api/experiments and their unit assignments."""

from __future__ import annotations

from flask import Blueprint, Response

from cluster_schema.leader import AssignmentsPut, Experiment, ExperimentCreate, ExperimentPatch
from cluster_schema.names import check_experiment, check_unit, check_value
from cluster_schema.openapi import Route

from ..db import experiments as exp_db
from ..db import get_db
from ..http import body, json_response

bp = Blueprint("experiments", __name__)


@bp.get("/experiments")
def list_experiments() -> Response:
    return json_response(exp_db.list_experiments(get_db()))


@bp.post("/experiments")
def create_experiment() -> Response:
    new = body(ExperimentCreate)
    exp = exp_db.create(get_db(), new.name, new.description)
    return json_response(exp, 201, {"Location": f"/api/experiments/{exp.name}"})


@bp.get("/experiments/<exp>")
def get_experiment(exp: str) -> Response:
    return json_response(exp_db.get(get_db(), check_experiment(exp)))


@bp.patch("/experiments/<exp>")
def patch_experiment(exp: str) -> Response:
    patch = body(ExperimentPatch)
    if patch.description is not None:
        check_value(patch.description, "$.description", 5000)
    return json_response(exp_db.update(get_db(), check_experiment(exp), patch.description))


@bp.delete("/experiments/<exp>")
def delete_experiment(exp: str) -> Response:
    exp_db.delete(get_db(), check_experiment(exp))
    return Response(status=204)


@bp.get("/experiments/<exp>/units")
def get_units(exp: str) -> Response:
    return json_response({"units": exp_db.assigned_units(get_db(), check_experiment(exp))})


@bp.put("/experiments/<exp>/units")
def put_units(exp: str) -> Response:
    wanted = body(AssignmentsPut)
    return json_response({"units": exp_db.assign(get_db(), check_experiment(exp), wanted.units)})


@bp.delete("/experiments/<exp>/units/<unit>")
def unassign(exp: str, unit: str) -> Response:
    exp_db.unassign(get_db(), check_experiment(exp), check_unit(unit))
    return Response(status=204)


ROUTES = [
    Route("GET", "/api/experiments", None, list[Experiment], summary="List experiments"),
    Route(
        "POST",
        "/api/experiments",
        ExperimentCreate,
        Experiment,
        201,
        "Create an experiment",
        errors=(409,),
        headers=("Location",),
    ),
    Route("GET", "/api/experiments/<exp>", None, Experiment),
    Route("PATCH", "/api/experiments/<exp>", ExperimentPatch, Experiment),
    Route(
        "DELETE", "/api/experiments/<exp>", None, None, 204, "Delete (409 while units are assigned)", (409,)
    ),
    Route("GET", "/api/experiments/<exp>/units", None, AssignmentsPut, summary="Assigned units"),
    Route(
        "PUT",
        "/api/experiments/<exp>/units",
        AssignmentsPut,
        AssignmentsPut,
        summary="Set assigned units (409 names unknown units)",
        errors=(409,),
    ),
    Route("DELETE", "/api/experiments/<exp>/units/<unit>", None, None, 204, "Unassign one unit"),
]

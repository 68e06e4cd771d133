"""/api/experiments and their unit assignments."""

from __future__ import annotations

from flask import Blueprint, Response

from cluster_schema.additions import ExperimentUnits, LabelPut
from cluster_schema.errors import BadRequest
from cluster_schema.leader import AssignmentsPut, Experiment, ExperimentCreate, ExperimentPatch
from cluster_schema.names import check_experiment, check_unit, check_value
from cluster_schema.openapi import Route, enum

from ..auth import address, principal, require_fresh, requires
from ..db import audit, get_db
from ..db import experiment_data as data_db
from ..db import experiments as exp_db
from ..db import labels as labels_db
from ..http import body, json_response, query_arg

bp = Blueprint("experiments", __name__)
DELETE_CHOICES = ("delete", "keep")


@bp.get("/experiments")
@requires("viewer")
def list_experiments() -> Response:
    return json_response(exp_db.list_experiments(get_db()))


@bp.post("/experiments")
@requires("operator")
def create_experiment() -> Response:
    new = body(ExperimentCreate)
    exp = exp_db.create(get_db(), new.name, new.description, new.copy_from)
    return json_response(exp, 201, {"Location": f"/api/experiments/{exp.name}"})


@bp.get("/experiments/<exp>")
@requires("viewer")
def get_experiment(exp: str) -> Response:
    return json_response(exp_db.get(get_db(), check_experiment(exp)))


@bp.patch("/experiments/<exp>")
@requires("operator")
def patch_experiment(exp: str) -> Response:
    patch = body(ExperimentPatch)
    if patch.description is not None:
        check_value(patch.description, "$.description", 5000)
    return json_response(exp_db.update(get_db(), check_experiment(exp), patch.description))


@bp.delete("/experiments/<exp>")
@requires("operator")
def delete_experiment(exp: str) -> Response:
    """`?data=delete` (default): the experiment and everything keyed by its name go, so a new experiment
    of that name starts empty. `?data=keep`: archived, its data kept and its name reserved. Either way
    409 while units are assigned (end it first)."""
    check_experiment(exp)
    choice = query_arg("data", "delete")
    if choice not in DELETE_CHOICES:
        raise BadRequest("Invalid value at `?data`: `delete` (with its data) or `keep` (archive it).")
    if choice == "keep":
        data_db.archive(get_db(), exp)
    else:
        require_fresh()  # deleting data is a dangerous action over a session
        data_db.purge(get_db(), exp)
    what = "experiment.archive" if choice == "keep" else "experiment.delete"
    audit.record(get_db(), principal() or "", what, exp, address=address())
    return Response(status=204)


@bp.post("/experiments/<exp>/restore")
@requires("operator")
def restore_experiment(exp: str) -> Response:
    """An archived experiment (`?data=keep`) back to live, its data as it was; 409 `not_archived`, or
    `being_deleted` while a `?data=delete` is purging it."""
    data_db.restore(get_db(), check_experiment(exp))
    audit.record(get_db(), principal() or "", "experiment.restore", exp, address=address())
    return json_response(exp_db.get(get_db(), exp))


def _units(exp: str) -> ExperimentUnits:
    db = get_db()
    return ExperimentUnits(units=exp_db.assigned_units(db, exp), labels=exp_db.labels_of(db, exp))


@bp.get("/experiments/<exp>/units")
@requires("viewer")
def get_units(exp: str) -> Response:
    return json_response(_units(check_experiment(exp)))


@bp.put("/experiments/<exp>/units")
@requires("operator")
def put_units(exp: str) -> Response:
    wanted = body(AssignmentsPut)
    exp_db.assign(get_db(), check_experiment(exp), wanted.units, wanted.move)
    return json_response(_units(exp))


@bp.put("/experiments/<exp>/units/<unit>/label")
@requires("operator")
def put_label(exp: str, unit: str) -> Response:
    """The unit's label in this experiment (unique in it); an empty label removes it."""
    check_experiment(exp), check_unit(unit)
    wanted = body(LabelPut)
    labels_db.put(get_db(), exp, unit, wanted.label)
    return json_response(_units(exp))


@bp.delete("/experiments/<exp>/units/<unit>")
@requires("operator")
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
        "Create an experiment (`copy_from`: start with another experiment's unit labels and alert rules)",
        errors=(409,),
        headers=("Location",),
    ),
    Route("GET", "/api/experiments/<exp>", None, Experiment),
    Route("PATCH", "/api/experiments/<exp>", ExperimentPatch, Experiment),
    Route(
        "DELETE",
        "/api/experiments/<exp>",
        None,
        None,
        204,
        "Delete with its data (`?data=delete`, the default) or archive it keeping its data and reserving its "
        "name (`?data=keep`); 409 while units are assigned",
        (409,),
        query={"data": enum(DELETE_CHOICES)},
    ),
    Route(
        "POST",
        "/api/experiments/<exp>/restore",
        None,
        Experiment,
        summary="Restore an archived experiment, its data as kept (409: not archived, or being deleted)",
        errors=(409,),
    ),
    Route("GET", "/api/experiments/<exp>/units", None, ExperimentUnits, summary="Assigned units, labels"),
    Route(
        "PUT",
        "/api/experiments/<exp>/units",
        AssignmentsPut,
        ExperimentUnits,
        summary="Set assigned units (unknown units, or units of another experiment without `move`: 409)",
        errors=(409,),
    ),
    Route(
        "PUT",
        "/api/experiments/<exp>/units/<unit>/label",
        LabelPut,
        ExperimentUnits,
        summary="Label a unit in this experiment (an empty label removes it)",
        errors=(409,),
    ),
    Route("DELETE", "/api/experiments/<exp>/units/<unit>", None, None, 204, "Unassign one unit"),
]

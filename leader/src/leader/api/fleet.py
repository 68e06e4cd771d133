"""Fleet routes: clocks, identify, calibrations (per unit, a curve, coverage) and plugins across units.

Roles (design.md): reads viewer; identify and calibrations operator; clocks and plugins admin, and
dangerous (a session needs a recent password check).
"""

from __future__ import annotations

from flask import Blueprint, Response, current_app, request

from cluster_schema.agent import Calibrations
from cluster_schema.fleet import (
    ActiveCalibrationChange,
    CalibrationCoverage,
    CalibrationCurve,
    PluginChange,
    PluginsByUnit,
)
from cluster_schema.leader import OperationAnswer
from cluster_schema.names import ALL_UNITS, check_unit
from cluster_schema.openapi import Route
from cluster_schema.self_test import SelfTest

from .. import self_test
from ..auth import dangerous, requires
from ..db import get_db
from ..db import units as units_db
from ..extensions import agents
from ..fleet import calibrations, plugins
from ..fleet.targets import targets_from, unit_or_all
from ..http import body, json_response
from ..operations.submit import start

bp = Blueprint("fleet", __name__)


def _timeout() -> float:
    return float(current_app.config["AGENT_READ_TIMEOUT"])


@bp.post("/units/<unit>/system/clock")
@requires("admin")
@dangerous
def sync_clock(unit: str) -> Response:
    """Set the units' clocks to the leader's (each unit gets the leader's time when its step runs)."""
    return start("system.clock", {}, unit_or_all(get_db(), unit))


@bp.post("/units/<unit>/identify")
@requires("operator")
def identify(unit: str) -> Response:
    return start("unit.identify", {}, unit_or_all(get_db(), unit))


@bp.post("/units/<unit>/self_test")
@requires("operator")
def start_self_test(unit: str) -> Response:
    """`pio run self_test` on the unit (`$all`: every active unit); 409 while a job it would disturb runs."""
    db = get_db()
    targets = unit_or_all(db, unit)
    self_test.check_idle(db, targets)
    return start(self_test.KIND, {}, targets)


@bp.get("/units/<unit>/self_test")
@requires("viewer")
def get_self_test(unit: str) -> Response:
    db = get_db()
    return json_response(self_test.read(db, units_db.get(db, check_unit(unit)).name))


@bp.get("/units/<unit>/calibrations")
@requires("viewer")
def unit_calibrations(unit: str) -> Response:
    return json_response(calibrations.for_unit(get_db(), agents(), unit, _timeout()))


@bp.get("/units/<unit>/calibrations/<device>/<path:name>")
@requires("viewer")
def calibration_curve(unit: str, device: str, name: str) -> Response:
    return json_response(calibrations.curve(get_db(), agents(), unit, device, name, _timeout()))


@bp.patch("/units/<unit>/active_calibrations/<device>/<path:name>")
@requires("operator")
def set_active_calibration(unit: str, device: str, name: str) -> Response:
    """One unit, or `$all` (optionally `{"units": [...]}`): "use X on all units" as one operation."""
    calibrations.check_names(device, name)
    db = get_db()
    change = body(ActiveCalibrationChange) if request.get_data() else ActiveCalibrationChange()
    if unit == ALL_UNITS and change.units is not None:
        targets = targets_from(db, change.units, "$.units")
    else:
        targets = unit_or_all(db, unit)
    return start("calibration.set_active", {"device": device, "name": name}, targets)


@bp.get("/calibrations/coverage")
@requires("viewer")
def coverage() -> Response:
    workers = int(current_app.config["FANOUT_WORKERS"])
    return json_response(calibrations.coverage(get_db(), agents(), workers, _timeout()))


@bp.get("/plugins")
@requires("viewer")
def list_plugins() -> Response:
    workers = int(current_app.config["FANOUT_WORKERS"])
    return json_response(plugins.list_all(get_db(), agents(), workers, _timeout() + 30))


def _plugin(action: str) -> Response:
    plugins.check_enabled()
    req = body(PluginChange)
    params = plugins.validate(req, install=action == "install")
    return start(f"plugin.{action}", params, plugins.targets(get_db(), req.units))


@bp.post("/plugins/install")
@requires("admin")
@dangerous
def install_plugin() -> Response:
    return _plugin("install")


@bp.post("/plugins/uninstall")
@requires("admin")
@dangerous
def uninstall_plugin() -> Response:
    return _plugin("uninstall")


ROUTES = [
    Route("POST", "/api/units/<unit>/system/clock", None, OperationAnswer, 202, "Set clocks to the leader's"),
    Route("POST", "/api/units/<unit>/identify", None, OperationAnswer, 202, "Flicker the unit's LED"),
    Route(
        "POST",
        "/api/units/<unit>/self_test",
        None,
        OperationAnswer,
        202,
        "Run the hardware self-test (`$all`: every active unit); 409 while OD, stirring or automations run",
        errors=(409,),
    ),
    Route(
        "GET", "/api/units/<unit>/self_test", None, SelfTest, summary="The latest self-test, check by check"
    ),
    # asked of the one unit's agent: 502/504 when it fails or times out (the contract's one-unit answers)
    Route(
        "GET",
        "/api/units/<unit>/calibrations",
        None,
        Calibrations,
        summary="One unit's calibrations",
        errors=(502, 504),
    ),
    Route(
        "GET",
        "/api/units/<unit>/calibrations/<device>/<name>",
        None,
        CalibrationCurve,
        summary="A curve",
        errors=(502, 504),
    ),
    Route(
        "PATCH",
        "/api/units/<unit>/active_calibrations/<device>/<name>",
        ActiveCalibrationChange,
        OperationAnswer,
        202,
        "Set the active calibration (`$all`: every unit, or `units`)",
    ),
    Route("GET", "/api/calibrations/coverage", None, CalibrationCoverage, summary="unit x device"),
    Route("GET", "/api/plugins", None, PluginsByUnit, summary="Plugins per unit"),
    Route("POST", "/api/plugins/install", PluginChange, OperationAnswer, 202, "403 unless PLUGINS_ENABLED"),
    Route("POST", "/api/plugins/uninstall", PluginChange, OperationAnswer, 202, "403 unless PLUGINS_ENABLED"),
]

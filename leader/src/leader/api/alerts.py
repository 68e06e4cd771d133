"""/api/alerts: recorded alerts (viewer), channels, rules and a test alert (admin). Evaluation and delivery
run in the leader worker (leader.alerts)."""

from __future__ import annotations

from typing import get_args

from flask import Blueprint, Flask, Response, current_app

from cluster_schema.alerts import (
    Alert,
    AlertChannels,
    AlertChannelsView,
    AlertKind,
    AlertRules,
    BuiltinRules,
    BuiltinRulesPatch,
    ThresholdRule,
    ThresholdRuleCreate,
    ThresholdRulePatch,
)
from cluster_schema.errors import BadRequest, Conflict, NotFound
from cluster_schema.names import check_experiment
from cluster_schema.openapi import Route, enum

from .. import alerts, contrib
from ..auth import requires
from ..db import alert_rules as rules_db
from ..db import alerts as alerts_db
from ..db import get_db
from ..http import body, json_response, query_arg, query_int

bp = Blueprint("alerts", __name__)
STATES = ("open", "resolved", "all")


def _check_rule(experiment: str | None, series: str | None) -> None:
    if experiment is not None:
        check_experiment(experiment, "$.experiment")
        if get_db().execute("SELECT 1 FROM experiments WHERE name = ?", (experiment,)).fetchone() is None:
            raise Conflict(f"Unknown experiment {experiment!r} at `$.experiment`.")
    if series is not None:
        keys = series_keys(current_app)
        if series not in keys:
            raise BadRequest(f"Unknown series {series!r} at `$.series`: one of {', '.join(keys)}.")


def series_keys(app: Flask) -> list[str]:
    """What a threshold rule may watch: this leader's chart descriptors (the document lists them)."""
    return sorted(c.key for c in contrib.charts(app.config["CONTRIB_DIR"]))


@bp.get("/alerts")
@requires("viewer")
def list_alerts() -> Response:
    state = query_arg("state", "all") or ""
    if state not in STATES:
        raise BadRequest(f"Invalid value at `?state`: one of {', '.join(STATES)}.")
    kind = query_arg("kind")
    if kind is not None and kind not in get_args(AlertKind):
        raise BadRequest(f"Invalid value at `?kind`: one of {', '.join(get_args(AlertKind))}.")
    limit = query_int("limit", 100, lo=1, hi=1000)
    return json_response(alerts_db.list_alerts(get_db(), state, kind, limit))


@bp.get("/alerts/<int:alert_id>")
@requires("viewer")
def get_alert(alert_id: int) -> Response:
    found = alerts_db.get(get_db(), alert_id)
    if found is None:
        raise NotFound(f"No alert {alert_id}.")
    return json_response(found)


@bp.get("/alerts/channels")
@requires("admin")
def get_channels() -> Response:
    return json_response(rules_db.channels_view(get_db()))


@bp.put("/alerts/channels")
@requires("admin")
def put_channels() -> Response:
    return json_response(rules_db.put_channels(get_db(), body(AlertChannels)))


@bp.get("/alerts/rules")
@requires("viewer")
def get_rules() -> Response:
    db = get_db()
    return json_response(AlertRules(builtin=rules_db.builtin(db), thresholds=rules_db.list_rules(db)))


@bp.patch("/alerts/rules/builtin")
@requires("admin")
def patch_builtin() -> Response:
    return json_response(rules_db.patch_builtin(get_db(), body(BuiltinRulesPatch)))


@bp.post("/alerts/rules")
@requires("admin")
def add_rule() -> Response:
    new = body(ThresholdRuleCreate)
    _check_rule(new.experiment, new.series)
    rule = rules_db.add_rule(get_db(), new)
    return json_response(rule, 201, {"Location": f"/api/alerts/rules/{rule.id}"})


@bp.patch("/alerts/rules/<int:rule_id>")
@requires("admin")
def patch_rule(rule_id: int) -> Response:
    patch = body(ThresholdRulePatch)
    rules_db.get_rule(get_db(), rule_id)  # 404 before 400
    _check_rule(patch.experiment, patch.series)
    if patch.hold_seconds is not None and patch.hold_seconds < 0:
        raise BadRequest("Invalid value at `$.hold_seconds`: seconds >= 0.")
    return json_response(rules_db.update_rule(get_db(), rule_id, patch))


@bp.delete("/alerts/rules/<int:rule_id>")
@requires("admin")
def delete_rule(rule_id: int) -> Response:
    rules_db.delete_rule(get_db(), rule_id)  # its open alerts resolve at the worker's next evaluation
    return Response(status=204)


@bp.post("/alerts/test")
@requires("admin")
def send_test() -> Response:
    """Sends to every enabled channel now and answers the test alert with each delivery's outcome."""
    if not rules_db.targets(get_db()):
        raise Conflict("No alert channel is configured: PUT /api/alerts/channels first.")
    alert_id = alerts.send_test(current_app.config["DATABASE"], dict(current_app.config))
    return json_response(alerts_db.get(get_db(), alert_id), 201)


ROUTES = [
    Route(
        "GET",
        "/api/alerts",
        None,
        list[Alert],
        summary="Alerts, newest first",
        query={
            "state": enum(STATES),
            "kind": enum(get_args(AlertKind)),
            "limit": {"type": "integer", "minimum": 1, "maximum": 1000},
        },
    ),
    Route("GET", "/api/alerts/<int:alert_id>", None, Alert),
    Route("GET", "/api/alerts/channels", None, AlertChannelsView),
    Route("PUT", "/api/alerts/channels", AlertChannels, AlertChannelsView, summary="Password is write-only"),
    Route("GET", "/api/alerts/rules", None, AlertRules),
    Route("PATCH", "/api/alerts/rules/builtin", BuiltinRulesPatch, BuiltinRules),
    Route(
        "POST",
        "/api/alerts/rules",
        ThresholdRuleCreate,
        ThresholdRule,
        201,
        "A threshold rule (409: unknown experiment)",
        errors=(409,),
        headers=("Location",),
    ),
    Route(
        "PATCH",
        "/api/alerts/rules/<int:rule_id>",
        ThresholdRulePatch,
        ThresholdRule,
        summary="Edit a threshold rule (409: unknown experiment)",
        errors=(405, 409),
    ),
    # an id beyond SQLite's INTEGER fails the URL's int converter: Werkzeug answers 405 (documented)
    Route("DELETE", "/api/alerts/rules/<int:rule_id>", None, None, 204, errors=(405,)),
    Route(
        "POST",
        "/api/alerts/test",
        None,
        Alert,
        201,
        summary="Send a test alert to every channel now (409: no channel configured)",
        errors=(409,),
    ),
]

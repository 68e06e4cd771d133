"""/api/openapi.json tells the truth about the app: every route, no other, constraints, statuses, 405s."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from cluster_schema.openapi import openapi_path

METHODS = {"get", "post", "put", "patch", "delete"}


@pytest.fixture
def spec(api: FlaskClient) -> dict[str, Any]:
    r = api.get("/api/openapi.json")
    assert r.status_code == 200 and r.json is not None
    return r.json


def _app_operations(app: Flask) -> set[tuple[str, str]]:
    found = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/"):
            found |= {
                (m.lower(), openapi_path(rule.rule)) for m in rule.methods or () if m.lower() in METHODS
            }
    return found


def test_the_document_and_the_url_map_list_the_same_operations(app: Flask, spec: dict[str, Any]) -> None:
    documented = {(m, p) for p, ops in spec["paths"].items() for m in ops}
    served = _app_operations(app)
    assert not served - documented, f"served but not documented: {sorted(served - documented)}"
    assert not documented - served, f"documented but not served: {sorted(documented - served)}"


def test_public_routes_are_marked_and_the_others_say_401_and_403(spec: dict[str, Any]) -> None:
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            if path == "/api/health":
                assert op["security"] == [] and "401" not in op["responses"]
            else:
                assert "security" not in op, (method, path)  # the document's bearer requirement applies
                assert {"401", "403"} <= set(op["responses"]), (method, path)
            for status, answer in op["responses"].items():
                if status.startswith(("4", "5")) and status != "414":
                    schema = answer["content"]["application/json"]["schema"]
                    assert schema == {"$ref": "#/components/schemas/ErrorBody"}, (method, path, status)


def test_constraints_reach_the_document(spec: dict[str, Any]) -> None:
    schemas = spec["components"]["schemas"]
    unit_create = schemas["UnitCreate"]["properties"]
    assert unit_create["name"]["pattern"] == "^[A-Za-z0-9][A-Za-z0-9-]{0,62}$"
    assert unit_create["port"] == {"type": "integer", "minimum": 1, "maximum": 65535, "default": 4999}
    assert schemas["ExperimentCreate"]["properties"]["name"]["maxLength"] == 100
    assert schemas["SettingsPatch"]["properties"]["settings"]["minProperties"] == 1
    params = spec["paths"]["/api/experiments/{exp}/jobs/{job}/start"]["post"]["parameters"]
    by_name = {p["name"]: p for p in params}
    assert by_name["job"]["schema"]["pattern"] == "^[a-z_][a-z0-9_]{0,63}$"
    assert by_name["exp"]["schema"]["maxLength"] == 100
    assert by_name["wait"]["in"] == "query" and by_name["wait"]["schema"]["maximum"] == 30
    # every status a route answers, e.g. 409 for units outside the experiment, 502/504 for one unit
    assert "409" in spec["paths"]["/api/experiments/{exp}/jobs/{job}/start"]["post"]["responses"]
    assert {"502", "504"} <= set(spec["paths"]["/api/units/{unit}/check"]["post"]["responses"])
    # the datasets this leader can export, from its chart descriptors
    assert "od" in schemas["ExportRequest"]["properties"]["datasets"]["items"]["enum"]


def test_operations_list_is_documented_as_it_answers(api: FlaskClient, spec: dict[str, Any]) -> None:
    answer = spec["paths"]["/api/operations"]["get"]["responses"]["200"]["content"]["application/json"]
    assert answer["schema"] == {"$ref": "#/components/schemas/OperationsPage"}
    page = spec["components"]["schemas"]["OperationsPage"]
    assert set(page["properties"]) == {"operations", "next"} and page["required"] == ["operations"]
    assert api.get("/api/operations").json == {"operations": [], "next": None}


def test_every_405_says_which_methods_exist(api: FlaskClient) -> None:
    for method, path, allowed in [
        ("DELETE", "/api/health", {"GET", "HEAD", "OPTIONS"}),
        ("PUT", "/api/units", {"GET", "POST", "HEAD", "OPTIONS"}),
        ("POST", "/api/experiments/e/units/u", {"DELETE", "OPTIONS"}),
        ("GET", "/api/profiles/validate", {"POST", "OPTIONS"}),  # not a profile named `validate`
    ]:
        r = api.open(path, method=method)
        assert r.status_code == 405 and r.json is not None
        assert set(re.split(r",\s*", r.headers["Allow"])) == allowed, r.headers
        assert r.json["error"] == "method_not_allowed" and r.json["message"]


def test_what_the_schema_refuses_the_service_refuses(api: FlaskClient) -> None:
    """The Structs' constraints are enforced on decode, naming the field path."""
    r = api.post("/api/experiments", json={"name": " padded"})
    assert r.status_code == 400 and "`$.name`" in r.json["message"]
    r = api.post("/api/units", json={"name": "u1", "port": 0})
    assert r.status_code == 400 and "`$.port`" in r.json["message"]
    r = api.patch("/api/experiments/e/jobs/stirring/settings", json={"settings": {}})
    assert r.status_code == 400 and "`$.settings`" in r.json["message"]
    r = api.put("/api/experiments/e/units", json={"units": ["u1", "u1"]})
    assert r.status_code == 400
    r = api.post("/api/experiments/e/jobs/stirring/start", json={"options": {"target_rpm": 5.0}})
    assert r.status_code == 404  # integral floats are integers in JSON; then: no experiment `e`
    assert api.delete(f"/api/tokens/{2**63}").status_code == 404  # beyond SQLite's INTEGER, not a 500


def test_a_body_naming_unknown_units_is_a_conflict(api: FlaskClient) -> None:
    assert api.post("/api/experiments", json={"name": "e"}).status_code == 201
    r = api.put("/api/experiments/e/units", json={"units": ["ghost"]})
    assert r.status_code == 409 and r.json["error"] == "unknown_units" and "ghost" in r.json["message"]
    r = api.post("/api/experiments/e/jobs/stirring/start", json={})
    assert r.status_code == 409 and r.json["error"] == "no_targets"


def test_a_query_parameter_given_twice_is_refused(api: FlaskClient) -> None:
    r = api.get("/api/operations?limit=5&limit=x")
    assert r.status_code == 400 and "`?limit`" in r.json["message"]
    assert api.get("/api/logs?unit=a&unit=b").status_code == 400


def test_a_401_names_the_scheme(client: FlaskClient) -> None:
    r = client.get("/api/units")
    assert r.status_code == 401 and r.headers["WWW-Authenticate"] == "Bearer"


def test_public_in_the_document_is_public_in_the_app(app: Flask, spec: dict[str, Any]) -> None:
    """`Route(public=True)` and `@public` say the same thing, route by route."""
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/"):
            continue
        view_public = getattr(app.view_functions[rule.endpoint], "public", False)
        for method in (rule.methods or set()) & {m.upper() for m in METHODS}:
            op = spec["paths"][openapi_path(rule.rule)][method.lower()]
            assert (op.get("security") == []) is view_public, (method, rule.rule)


def test_a_body_over_the_limit_is_a_documented_413(
    app: Flask, api: FlaskClient, spec: dict[str, Any]
) -> None:
    big = b'{"name": "e", "description": "' + b"x" * app.config["MAX_CONTENT_LENGTH"] + b'"}'
    r = api.post("/api/experiments", data=big, content_type="application/json")
    assert r.status_code == 413 and r.json is not None and r.json["error"] == "request_entity_too_large"
    assert "413" in spec["paths"]["/api/experiments"]["post"]["responses"]

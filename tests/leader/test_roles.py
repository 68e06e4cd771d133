"""Every route declares its least role (or is on the short public list), and the one check enforces it.

The walk is generic: it reads the app's URL map, so routes added later are covered without editing it.
"""

from __future__ import annotations

from pathlib import Path

from flask import Flask

from cluster_schema.people import ROLES, role_rank
from leader import auth, setup
from leader.db import connect
from leader.db import tokens as tokens_db
from tests.leader.conftest import make_app

# The design's open routes: health, sign-in and -out, and setup (which refuses once complete).
PUBLIC = {"/api/health", "/login", "/logout", "/setup", "/setup/admin"}
# Changes a viewer may make: their own tokens, and their own password check; and validating a profile.
VIEWER_MAY = {
    ("POST", "/api/tokens"),
    ("DELETE", "/api/tokens/<int:token_id>"),
    ("POST", "/api/reauth"),
    ("POST", "/api/profiles/validate"),  # saves nothing: editors validate as you type
}
MUTATING = {"POST", "PUT", "PATCH", "DELETE"}


def _routes(app: Flask) -> list[tuple[str, str, str, str | None]]:
    """(method, rule, concrete path, declared role or "public" or None) for every route but static files."""
    out = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static" or rule.endpoint.endswith(".static"):
            continue
        path = rule.rule
        for arg in rule.arguments:
            for pattern in (f"<{arg}>", f"<int:{arg}>", f"<path:{arg}>"):
                path = path.replace(pattern, "1" if pattern.startswith("<int:") else "x")
            path = path.replace(f"<exportid:{arg}>", "0" * 32)  # an operation id's shape
        view = app.view_functions[rule.endpoint]
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):  # type: ignore[operator]
            out.append((method, rule.rule, path, auth.declared(view)))
    return out


def _token(app: Flask, role: str) -> dict[str, str]:
    db = connect(app.config["DATABASE"])
    try:
        return {"Authorization": "Bearer " + tokens_db.create(db, f"walk-{role}", role).token}
    finally:
        db.close()


def test_every_route_declares_a_role_or_is_public(app: Flask) -> None:
    routes = _routes(app)
    assert len(routes) > 30
    undeclared = [f"{m} {r}" for m, r, _, role in routes if role is None]
    assert not undeclared, f"declare @requires(role) or @public next to these routes: {undeclared}"
    public = {r for _, r, _, role in routes if role == "public"}
    assert public <= PUBLIC, f"public beyond the design's short list: {public - PUBLIC}"


def test_mutations_refuse_lower_roles_and_anonymous(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    db = connect(app.config["DATABASE"])
    setup.complete(db, "test")  # pages answer with their sign-in redirect, not the setup one
    db.close()
    client = app.test_client()
    tokens = {role: _token(app, role) for role in ROLES}
    checked = 0
    for method, rule, path, role in _routes(app):
        if role == "public":
            continue
        assert role is not None
        anonymous = client.open(path, method=method)
        if rule.startswith("/api/") or rule == "/metrics" or method in MUTATING:
            assert anonymous.status_code == 401, (
                f"{method} {rule} without credentials: {anonymous.status_code}"
            )
            assert anonymous.json and anonymous.json["error"] == "unauthorized"
        else:  # a page: to the sign-in form, and back here afterwards
            assert anonymous.status_code == 302 and "/login?next=" in anonymous.headers["Location"]
        if method not in MUTATING:
            continue
        if role == "viewer":
            assert (method, rule) in VIEWER_MAY, f"{method} {rule} lets a viewer change something"
            continue
        for lower in ROLES[: role_rank(role)]:
            r = client.open(path, method=method, headers=tokens[lower], json={})
            assert r.status_code == 403, f"{method} {rule} as {lower}: {r.status_code}"
            assert r.json == {"error": "forbidden", "message": r.json["message"]}
            assert f"needs the {role} role" in r.json["message"]
            checked += 1
    assert checked > 20


def test_design_roles_of_existing_routes(app: Flask) -> None:
    roles = {(m, r): role for m, r, _, role in _routes(app)}
    assert roles[("GET", "/api/units")] == "viewer"
    assert roles[("POST", "/api/units")] == "admin"
    assert roles[("POST", "/api/experiments/<exp>/jobs/<job>/start")] == "operator"
    assert roles[("POST", "/api/exports")] == "operator"
    assert roles[("POST", "/api/operations/<op_id>/cancel")] == "operator"
    assert roles[("PUT", "/api/config/files/<name>")] == "admin"
    assert roles[("POST", "/api/config/sync")] == "admin"
    assert roles[("POST", "/api/units/<unit>/system/<action>")] == "admin"
    assert roles[("GET", "/api/users")] == "admin"
    assert roles[("GET", "/api/audit")] == "admin"
    assert roles[("GET", "/api/me")] == "viewer"
    views = app.view_functions
    for endpoint in ("api.system.system_action", "api.config_files.sync", "api.users.create_user"):
        assert getattr(views[endpoint], "dangerous", False), endpoint

"""/api/me (who am I) and /api/reauth (the password again, before dangerous actions over a session)."""

from __future__ import annotations

from flask import Blueprint, Response
from flask_wtf.csrf import generate_csrf

from cluster_schema.openapi import Route
from cluster_schema.people import Me, PasswordCheck

from .. import auth, sessions
from ..http import body, json_response

bp = Blueprint("me", __name__)


@bp.get("/me")
@auth.requires("viewer")
def me() -> Response:
    ident = auth.require_role("viewer")
    csrf = generate_csrf() if ident.kind == "user" else None
    answer = Me(
        name=ident.name,
        role=ident.role,  # type: ignore[arg-type]
        kind=ident.kind,  # type: ignore[arg-type]
        token_id=ident.token_id,
        csrf_token=csrf,
    )
    return json_response(answer)


@bp.post("/reauth")
@auth.requires("viewer")
def reauth() -> Response:
    """Over a session: check the password, so dangerous actions work for REAUTH_MINUTES. 204."""
    sessions.reauthenticate(body(PasswordCheck).password)
    return Response(status=204)


ROUTES = [
    Route("GET", "/api/me", None, Me, summary="The caller: name, role, kind (user|token)"),
    Route("POST", "/api/reauth", PasswordCheck, None, 204, "Password again, for dangerous actions"),
]

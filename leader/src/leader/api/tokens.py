"""/api/tokens: API tokens (the secret is shown once, in the creation answer).

Any signed-in user creates and revokes their own tokens, with a role up to their own (default: theirs);
an admin sees and revokes every token (revoking another's is a dangerous action).
"""

from __future__ import annotations

from flask import Blueprint, Response

from cluster_schema.errors import Forbidden, NotFound
from cluster_schema.leader import Token, TokenCreate, TokenCreated
from cluster_schema.openapi import Route
from cluster_schema.people import role_rank

from .. import auth
from ..db import audit, get_db
from ..db import tokens as tokens_db
from ..http import body, json_response

bp = Blueprint("tokens", __name__)


def _owner(ident: auth.Identity) -> str | None:
    """Whose tokens the caller's are: a user's (also through one of their tokens); None for CLI tokens."""
    if ident.kind == "user":
        return ident.name
    if ident.kind == "token" and ident.token_id is not None:
        return tokens_db.get(get_db(), ident.token_id).owner
    return None


@bp.get("/tokens")
@auth.requires("viewer")
def list_tokens() -> Response:
    ident = auth.require_role("viewer")
    if ident.role == "admin":
        return json_response(tokens_db.list_active(get_db()))
    owner = _owner(ident)
    return json_response(tokens_db.list_active(get_db(), owner) if owner else [])


@bp.post("/tokens")
@auth.requires("viewer")
def create_token() -> Response:
    ident = auth.require_role("viewer")
    new = body(TokenCreate).validate()
    role = new.role or ident.role
    if role_rank(role) > role_rank(ident.role):
        raise Forbidden(f"A token's role cannot exceed yours ({ident.role}) at `$.role`.")
    owner = _owner(ident)
    created = tokens_db.create(get_db(), new.name.strip(), role, owner)
    audit.record(
        get_db(),
        ident.principal,
        "token.create",
        f"token:{created.id}",
        {"name": created.name, "role": role},
        auth.address(),
    )
    return json_response(created, 201)


@bp.delete("/tokens/<int:token_id>")
@auth.requires("viewer")
def revoke(token_id: int) -> Response:
    if token_id > 2**63 - 1:  # beyond an SQLite INTEGER: no such token
        raise NotFound(f"No active API token with id {token_id}.")
    ident = auth.require_role("viewer")
    db = get_db()
    token = tokens_db.get(db, token_id)
    mine = token.owner is not None and token.owner == _owner(ident)
    if not mine:
        auth.require_role("admin")  # another's token (or a CLI token)
        auth.require_fresh()
    tokens_db.revoke(db, token_id)
    audit.record(
        db, ident.principal, "token.revoke", f"token:{token_id}", {"owner": token.owner}, auth.address()
    )
    return Response(status=204)


ROUTES = [
    Route(
        "GET",
        "/api/tokens",
        None,
        list[Token],
        summary="Your active tokens (an admin: all); never the secret",
    ),
    Route("POST", "/api/tokens", TokenCreate, TokenCreated, 201, "Create; the token is shown once"),
    Route("DELETE", "/api/tokens/<int:token_id>", None, None, 204, "Revoke (yours; an admin: any)"),
]

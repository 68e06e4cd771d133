"""/api/tokens: API tokens (the secret is shown once, in the creation answer)."""

from __future__ import annotations

from flask import Blueprint, Response

from cluster_schema.errors import NotFound
from cluster_schema.leader import Token, TokenCreate, TokenCreated
from cluster_schema.openapi import Route

from ..db import get_db
from ..db import tokens as tokens_db
from ..http import body, json_response

bp = Blueprint("tokens", __name__)


@bp.get("/tokens")
def list_tokens() -> Response:
    return json_response(tokens_db.list_active(get_db()))


@bp.post("/tokens")
def create_token() -> Response:
    new = body(TokenCreate)
    return json_response(tokens_db.create(get_db(), new.name.strip()), 201)


@bp.delete("/tokens/<int:token_id>")
def revoke(token_id: int) -> Response:
    if token_id > 2**63 - 1:  # beyond an SQLite INTEGER: no such token
        raise NotFound(f"No active API token with id {token_id}.")
    tokens_db.revoke(get_db(), token_id)
    return Response(status=204)


ROUTES = [
    Route("GET", "/api/tokens", None, list[Token], summary="Active API tokens (never the secret)"),
    Route("POST", "/api/tokens", TokenCreate, TokenCreated, 201, "Create; the token is shown once"),
    Route("DELETE", "/api/tokens/<int:token_id>", None, None, 204, "Revoke"),
]

"""/api/users (admin): people and their roles. Changes are dangerous actions (a recent password check over
a session), audited, and end the changed user's sessions; the last admin stays."""

from __future__ import annotations

from flask import Blueprint, Response

from cluster_schema.errors import BadRequest
from cluster_schema.openapi import Route
from cluster_schema.people import (
    User,
    UserCreate,
    UserName,
    UserPatch,
    UserPatchSchema,
    check_password,
    check_user_name,
)

from .. import auth, passwords
from ..db import audit, get_db, users
from ..http import body, json_response

bp = Blueprint("users", __name__)


@bp.get("/users")
@auth.requires("admin")
def list_users() -> Response:
    return json_response(users.list_users(get_db()))


@bp.post("/users")
@auth.requires("admin")
@auth.dangerous
def create_user() -> Response:
    new = body(UserCreate)
    user = users.create(get_db(), new.name, passwords.hash_password(new.password), new.role)
    audit.record(
        get_db(), auth.principal() or "", "user.create", user.name, {"role": user.role}, auth.address()
    )
    return json_response(user, 201, {"Location": f"/api/users/{user.name}"})


@bp.get("/users/<name>")
@auth.requires("admin")
def get_user(name: str) -> Response:
    return json_response(users.get(get_db(), check_user_name(name, "name")))


@bp.patch("/users/<name>")
@auth.requires("admin")
@auth.dangerous
def patch_user(name: str) -> Response:
    patch = body(UserPatch)
    db, actor = get_db(), auth.principal() or ""
    before = users.get(db, check_user_name(name, "name"))
    if patch.password is None and patch.role is None:
        raise BadRequest("Nothing to change: give `$.password` or `$.role`.")
    if patch.password is not None:
        check_password(patch.password, name)
    if patch.role is not None and patch.role != before.role:
        users.set_role(db, name, patch.role)  # 409 for the last admin, before any password change
        audit.record(db, actor, "user.role", name, {"from": before.role, "to": patch.role}, auth.address())
    if patch.password is not None:
        users.set_password(db, name, passwords.hash_password(patch.password))
        audit.record(db, actor, "user.password", name, address=auth.address())
    return json_response(users.get(db, name))


@bp.delete("/users/<name>")
@auth.requires("admin")
@auth.dangerous
def delete_user(name: str) -> Response:
    db = get_db()
    users.delete(db, check_user_name(name, "name"))
    audit.record(db, auth.principal() or "", "user.delete", name, address=auth.address())
    return Response(status=204)


_NAME = {"name": UserName}
ROUTES = [
    Route("GET", "/api/users", None, list[User], summary="Users and their roles (admin)"),
    Route(
        "POST",
        "/api/users",
        UserCreate,
        User,
        201,
        "Create a user (admin; 409 when the name is taken)",
        errors=(409,),
        headers=("Location",),
    ),
    Route("GET", "/api/users/<name>", None, User, summary="One user (admin)", params=_NAME),
    Route(
        "PATCH",
        "/api/users/<name>",
        UserPatchSchema,
        User,
        summary="Change role or password; ends sessions (409: the last admin stays admin)",
        errors=(409,),
        params=_NAME,
    ),
    Route(
        "DELETE",
        "/api/users/<name>",
        None,
        None,
        204,
        "Remove; revokes the user's tokens (admin; 409: the last admin stays)",
        errors=(409,),
        params=_NAME,
    ),
]

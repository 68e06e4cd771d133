"""People and credentials: users, roles, `/api/me`, re-authentication, first-admin setup, the audit trail."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from msgspec import Meta

from .base import Wire
from .errors import BadRequest

Role = Literal["viewer", "operator", "admin"]
ROLES: tuple[str, ...] = ("viewer", "operator", "admin")  # each includes the one before
PASSWORD_MIN = 10
PASSWORD_MAX = 1000  # a hash of a megabyte is a denial of service, not a password

USER_PATTERN = r"^[a-z0-9][a-z0-9_.-]{0,63}$"
_USER = re.compile(USER_PATTERN)
UserName = Annotated[str, Meta(pattern=USER_PATTERN, max_length=64, description="A user name")]
Password = Annotated[str, Meta(min_length=PASSWORD_MIN, max_length=PASSWORD_MAX)]


def role_rank(role: str) -> int:
    return ROLES.index(role)


def lower_role(a: str, b: str) -> str:
    return a if role_rank(a) <= role_rank(b) else b


def check_user_name(value: str, field: str = "$.name") -> str:
    if not isinstance(value, str) or not _USER.fullmatch(value):
        raise BadRequest(
            f"Invalid user name at `{field}`: 1-64 lowercase letters, digits, '_', '.' or '-', "
            "starting with a letter or digit."
        )
    return value


def check_password(password: str, name: str, field: str = "$.password") -> str:
    if len(password) < PASSWORD_MIN:
        raise BadRequest(f"Weak password at `{field}`: use at least {PASSWORD_MIN} characters.")
    if len(password) > PASSWORD_MAX:
        raise BadRequest(f"Password too long at `{field}`: at most {PASSWORD_MAX} characters.")
    if password.strip().lower() == name.lower():
        raise BadRequest(f"Weak password at `{field}`: it may not be the user name.")
    return password


class UserCreate(Wire):
    name: UserName
    password: Password
    role: Role = "viewer"

    def validate(self) -> UserCreate:
        check_user_name(self.name)
        check_password(self.password, self.name)
        return self


class UserPatch(Wire):
    password: Password | None = None
    role: Role | None = None


# PATCH /api/users/<name> as documented: something to change (the view says so too)
UserPatchSchema = Annotated[
    UserPatch,
    Meta(
        extra_json_schema={
            "anyOf": [
                {"required": [name], "properties": {name: {"type": "string"}}}
                for name in ("password", "role")
            ]
        }
    ),
]


class User(Wire):
    name: str
    role: Role
    created_at: str
    last_login_at: str | None = None


class Me(Wire):
    name: str
    role: Role
    kind: Literal["user", "token", "development"]
    token_id: int | None = None
    csrf_token: str | None = None  # over a session: what scripts send as `X-CSRFToken`


class PasswordCheck(Wire):
    """`POST /api/reauth`: the signed-in user's password again, for dangerous actions."""

    password: Annotated[str, Meta(max_length=PASSWORD_MAX)]


class SetupAdmin(Wire):
    """`POST /setup/admin`: the first admin, with the one-time code printed in the leader's log."""

    setup_code: str
    name: str
    password: str

    def validate(self) -> SetupAdmin:
        check_user_name(self.name)
        check_password(self.password, self.name)
        return self


class SetupState(Wire):
    setup_complete: bool


class AuditEntry(Wire):
    id: int
    at: str
    actor: str  # a principal: user:<name>, token:<id>, cli:<os user>, anonymous, development
    action: str  # e.g. login, login_failed, user.create, token.revoke, config.edit, unit.delete
    target: str | None = None
    address: str | None = None
    detail: dict[str, Any] = {}


class AuditPage(Wire):
    entries: list[AuditEntry]
    next: int | None = None  # pass as `?before=` for the next (older) page

"""Who is asking, and may they: one check before every request, for `/api` and pages alike.

Credentials, first found wins: `Authorization: Bearer <api token>` (leader.db.tokens), then the browser
session cookie (leader.sessions), then — only with `APP_ENV=development` set explicitly in the environment,
said loudly at start — nobody, acting as an admin named `development`.

Every view declares, next to its route, either `@public` or `@requires("viewer"|"operator"|"admin")`
(roles include the ones before). A view that declares nothing needs an admin (fails closed), and the
URL-map test names it. `@dangerous` marks actions that a session may only do within REAUTH_MINUTES of its
last password check (`403 {"error": "reauth_required"}`; `POST /api/reauth` refreshes it); a Bearer token
counts as a fresh credential. Cookie-authenticated requests that change something must carry the CSRF
token (header `X-CSRFToken` or form field `csrf_token`); Bearer requests are exempt.

The check is app-wide (`app.before_request`), so a blueprint added later is covered without wiring. Pages
(anything outside `/api`) differ only in answering a redirect to `/login?next=…` instead of 401, and a
redirect to `/setup` while setup is incomplete (leader.setup).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from flask import Flask, current_app, g, redirect, request, session, url_for
from werkzeug.wrappers import Response

from cluster_schema.errors import Forbidden, Unauthorized
from cluster_schema.people import ROLES, role_rank

from .csrf import csrf
from .db import get_db
from .db import sessions as sessions_db
from .db import tokens as tokens_db

log = logging.getLogger(__name__)
F = TypeVar("F", bound=Callable[..., Any])

MUTATING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# Paths that are not pages even though they are outside /api: machines read them (401, never a redirect).
NOT_PAGES = ("/api/", "/metrics", "/static/")
UNDECLARED_ROLE = "admin"


def public(view: F) -> F:
    """Open to anyone (the design's short list: health, login, logout, setup while incomplete)."""
    view.public = True  # type: ignore[attr-defined]
    return view


def requires(role: str) -> Callable[[F], F]:
    """Declare, next to the route, the least role a view needs (`viewer`, `operator`, `admin`)."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}")

    def mark(view: F) -> F:
        view.role = role  # type: ignore[attr-defined]
        return view

    return mark


def dangerous(view: F) -> F:
    """Over a session, needs a password check within REAUTH_MINUTES (see require_fresh)."""
    view.dangerous = True  # type: ignore[attr-defined]
    return view


def during_setup(view: F) -> F:
    """A page that stays reachable while setup is incomplete (the /setup pages themselves)."""
    view.during_setup = True  # type: ignore[attr-defined]
    return view


def declared(view: Callable[..., Any]) -> str | None:
    """`"public"`, a role, or None when the view declares nothing."""
    if getattr(view, "public", False):
        return "public"
    return getattr(view, "role", None)


@dataclass(frozen=True)
class Identity:
    kind: str  # user | token | development
    name: str  # the user; a token's owner, else the token's name
    role: str  # effective
    principal: str  # user:<name> | token:<id> | development
    token_id: int | None = None
    session_id: str | None = None
    password_age: float = 0.0  # seconds since the session's last password check


def _bearer() -> str | None:
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()


def _identify() -> Identity | None:
    token = _bearer()
    if token is not None:
        found = tokens_db.identify(get_db(), token)
        if found is None:
            raise Unauthorized("Invalid or revoked API token.")
        return Identity("token", found.owner or found.name, found.role, f"token:{found.id}", found.id)
    sid = session.get("sid")
    if isinstance(sid, str):
        live = sessions_db.lookup(get_db(), sid)
        if live is not None:
            return Identity("user", live.user, live.role, f"user:{live.user}", None, sid, live.password_age())
        session.pop("sid", None)  # ended elsewhere (sign-out, password or role change): anonymous now
    if current_app.config["APP_ENV"] == "development":
        return Identity("development", "development", "admin", "development")
    return None


def identify_page_session() -> Identity | None:
    """For public pages that show more to a signed-in person (the setup wizard): the session's identity."""
    if "identity" not in g:
        sid = session.get("sid")
        live = sessions_db.lookup(get_db(), sid) if isinstance(sid, str) else None
        if live is not None:
            g.identity = Identity(
                "user", live.user, live.role, f"user:{live.user}", None, sid, live.password_age()
            )
    return current()


def is_page() -> bool:
    return not request.path.startswith(NOT_PAGES) and request.path not in ("/api", "/metrics")


def _login_redirect() -> Response:
    target = request.full_path.rstrip("?") if request.query_string else request.path
    return redirect(url_for("login.login_form", next=target))


def check_request() -> Response | None:
    """The app's before_request: authenticate, authorise by the view's role, CSRF, re-authentication."""
    endpoint = request.endpoint
    if endpoint is None:  # 404/405: nothing to protect
        return None
    view = current_app.view_functions[endpoint]
    if endpoint == "static" or endpoint.endswith(".static"):
        return None
    page = is_page()
    if page and not getattr(view, "during_setup", False):
        from . import setup

        if not setup.is_complete(get_db()):
            return redirect(url_for("login.setup_form"))
    role = declared(view)
    if role == "public":
        return None
    ident = _identify()
    if ident is None:
        if page and request.method in ("GET", "HEAD"):
            return _login_redirect()
        raise Unauthorized("Credentials required: sign in, or send `Authorization: Bearer <api token>`.")
    g.identity = ident
    needed = role or UNDECLARED_ROLE
    if role_rank(ident.role) < role_rank(needed):
        raise Forbidden(f"{request.method} {request.path} needs the {needed} role (you are {ident.role}).")
    if ident.kind == "user" and request.method in MUTATING:
        csrf.protect()  # raises CSRFError (400) without a valid token
    if getattr(view, "dangerous", False):
        require_fresh()
    return None


def current() -> Identity | None:
    return g.get("identity")


def principal() -> str | None:
    ident = current()
    return ident.principal if ident else None


def has_role(role: str) -> bool:
    ident = current()
    return ident is not None and role_rank(ident.role) >= role_rank(role)


def require_role(role: str) -> Identity:
    """For checks that depend on the request's content (e.g. whose token is deleted)."""
    ident = current()
    if ident is None:
        raise Unauthorized("Credentials required.")
    if role_rank(ident.role) < role_rank(role):
        raise Forbidden(f"This needs the {role} role (you are {ident.role}).")
    return ident


def require_fresh() -> None:
    """Dangerous actions over a session need a recent password check; tokens are fresh credentials."""
    ident = current()
    if ident is None or ident.kind != "user":
        return
    if ident.password_age > float(current_app.config["REAUTH_MINUTES"]) * 60:
        raise Forbidden(
            "This action needs your password again: POST it to /api/reauth, then retry.",
            code="reauth_required",
        )


def address() -> str | None:
    return request.remote_addr


def init_app(app: Flask) -> None:
    app.before_request(check_request)
    if app.config["APP_ENV"] == "development":
        log.warning(
            "!!! APP_ENV=development: /api answers requests WITHOUT credentials. "
            "Never use this on a network. !!!"
        )

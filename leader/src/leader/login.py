"""Pages of signing in: `/login`, `/logout`, `/setup` (+ `POST /setup/admin`, the first admin).

Minimal pages (the UI restyles them); each POST takes a form (with the `csrf_token` field) or JSON (with the
`X-CSRFToken` header; the token is in the forms and in `GET /api/me`). `next` only ever leads to a local path.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, current_app, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from cluster_schema import codec
from cluster_schema.errors import ApiError, Conflict, Forbidden
from cluster_schema.people import SetupAdmin

from . import auth, passwords, rollout_key, sessions, setup
from .csrf import csrf
from .db import audit, get_db, login_limits, users
from .db import units as units_db
from .http import json_response

bp = Blueprint("login", __name__)


def safe_next(value: str | None) -> str:
    """A local path (`/x?y`) or `/`: never another host, never a scheme (`//evil`, `/\\evil`, `http:`)."""
    if not value or not value.startswith("/") or value.startswith(("//", "/\\")):
        return "/"
    parts = urlsplit(value)
    if parts.scheme or parts.netloc or any(c in value for c in "\r\n\t\\"):
        return "/"
    return value


def _form_or_json() -> dict[str, Any]:
    if request.is_json:
        data = codec.decode(dict[str, Any], request.get_data(cache=True))
        return data
    return request.form.to_dict()


def _page(template: str, status: int = 200, **context: Any) -> Response:
    return Response(render_template(template, **context), status=status, mimetype="text/html")


@bp.get("/login")
@auth.public
@auth.during_setup
def login_form() -> Response:
    db = get_db()
    if not setup.is_complete(db) and users.count_admins(db) == 0:
        return redirect(url_for("login.setup_form"))
    return _page(
        "login.html", next_path=safe_next(request.args.get("next")), username="", error=None, retry_after=None
    )


@bp.post("/login")
@auth.public
@auth.during_setup
def login() -> Response:
    csrf.protect()
    data = _form_or_json()
    name, password = str(data.get("username", "")), str(data.get("password", ""))
    target = safe_next(str(data.get("next") or request.args.get("next") or ""))
    try:
        sessions.sign_in(name, password)
    except ApiError as exc:
        if request.is_json:
            raise
        headers = getattr(exc, "headers", None) or {}
        page = _page(
            "login.html",
            exc.status,
            next_path=target,
            username=name,
            error=exc.message,
            retry_after=headers.get("Retry-After"),
        )
        page.headers.update(headers)
        return page
    if request.is_json:
        user = users.get(get_db(), name)
        return json_response({"name": user.name, "role": user.role, "next": target})
    return redirect(target, 303)


@bp.post("/logout")
@auth.public
@auth.during_setup
def logout() -> Response:
    if request.cookies:
        csrf.protect()
    sessions.sign_out()
    if request.is_json:
        return Response(status=204)
    return redirect(url_for("login.login_form"), 303)


def _wizard(db: Any) -> dict[str, Any]:
    """What the wizard's steps show: only an admin sees them (the page itself is public)."""
    if not auth.has_role("admin"):
        return {"units": [], "key": None, "broker": ""}
    url = urlsplit(current_app.config["MQTT_URL"])
    return {
        "units": units_db.list_units(db),
        "key": rollout_key.read(rollout_key.key_path()),
        "broker": f"{url.hostname or '127.0.0.1'}:{url.port or 1883}",  # never the credentials
    }


@bp.get("/setup")
@auth.public
@auth.during_setup
def setup_form() -> Response:
    db = get_db()
    if setup.is_complete(db):
        return redirect("/")
    auth.identify_page_session()
    return _page("setup.html", admin_exists=users.count_admins(db) > 0, error=None, **_wizard(db))


@bp.post("/setup/admin")
@auth.public
@auth.during_setup
def setup_admin() -> Response:
    """The first admin: only while setup is incomplete and no admin exists, with the setup code."""
    csrf.protect()
    db = get_db()
    try:
        new = codec.decode(SetupAdmin, codec.encode(_form_or_json())).validate()
        if setup.is_complete(db) or users.count_admins(db) > 0:
            raise Conflict("Setup has an admin already: sign in instead.", code="setup_done")
        limit = int(current_app.config["LOGIN_FAILURES_PER_MINUTE"])
        slots, wait = login_limits.take(db, [f"setup:{auth.address()}"], limit)
        if not slots:
            raise sessions.Throttled(wait)
        if not setup.code_matches(db, new.setup_code):
            audit.record(db, "anonymous", "setup_code_failed", new.name, address=auth.address())
            raise Forbidden("Wrong setup code: see the leader's log.", code="wrong_setup_code")
        login_limits.give_back(db, slots)
        user = users.create(db, new.name, passwords.hash_password(new.password), "admin")
        setup.forget_code(db)
        audit.record(db, f"user:{user.name}", "user.create", user.name, {"role": "admin", "via": "setup"})
        sessions.start_session(user.name)
    except ApiError as exc:
        if request.is_json:
            raise
        return _page(
            "setup.html",
            exc.status,
            admin_exists=users.count_admins(db) > 0,
            error=exc.message,
            **_wizard(db),
        )
    if request.is_json:
        return json_response(user, 201)
    return redirect(url_for("login.setup_form"), 303)

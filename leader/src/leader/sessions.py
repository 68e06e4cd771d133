"""Browser sign-in: password checks (limited across workers), stored sessions, cookie flags, CSRF.

Flask's signed cookie carries only the stored session's random id (`sid`) and Flask-WTF's CSRF secret; the
session itself lives in the store (leader.db.sessions) so it can be ended. Cookie: HttpOnly, SameSite=Lax,
Secure when SESSION_COOKIE_SECURE (behind HTTPS). Proxy headers (X-Forwarded-For/-Proto/-Host) are
trusted only when TRUSTED_PROXIES says how many proxies stand in front (werkzeug's ProxyFix).

CSRF: Flask-WTF's CSRFProtect, with the default check off; leader.auth calls `csrf.protect()` for
cookie-authenticated requests that change something, and the sign-in forms call it themselves.
"""

from __future__ import annotations

import time
from datetime import timedelta

from flask import Flask, Response, current_app, session
from flask_wtf.csrf import CSRFError
from werkzeug.middleware.proxy_fix import ProxyFix

from cluster_schema.errors import ErrorBody, TooManyRequests, Unauthorized

from . import auth, errors, passwords
from .csrf import csrf
from .db import audit, get_db, login_limits, users
from .db import sessions as sessions_db
from .http import json_response

WRONG = "Wrong user name or password."  # one message for both: it does not tell which names exist


class Throttled(TooManyRequests):
    def __init__(self, wait: float) -> None:
        super().__init__(f"Too many failed password checks: try again in {int(wait)} seconds.")
        self.headers = {"Retry-After": str(int(wait))}


def check_password(name: str, password: str, action: str) -> None:
    """Raises Throttled (429) past the limit, Unauthorized (401) for a wrong name or password.

    Limited per user and per address across all workers (state in the store); every failure is audited
    and answered no sooner than LOGIN_FAILURE_DELAY seconds.
    """
    db, addr = get_db(), auth.address()
    limit = int(current_app.config["LOGIN_FAILURES_PER_MINUTE"])
    slots, wait = login_limits.take(db, [f"user:{name}", f"addr:{addr}"], limit)
    if not slots:  # not audited: a flood of refused attempts must not flood the trail
        raise Throttled(wait)
    row = users.find(db, name)
    if passwords.verify(row["password_hash"] if row else None, password):
        login_limits.give_back(db, slots)
        return
    audit.record(db, auth.principal() or "anonymous", f"{action}_failed", name, address=addr)
    time.sleep(float(current_app.config["LOGIN_FAILURE_DELAY"]))
    raise Unauthorized(WRONG, code="wrong_credentials")


def sign_in(name: str, password: str) -> None:
    check_password(name, password, "login")
    db = get_db()
    old = session.get("sid")
    if isinstance(old, str):
        sessions_db.end(db, old)
    hours = float(current_app.config["SESSION_HOURS"])
    session["sid"] = sessions_db.create(db, name, hours, auth.address())
    session.permanent = True
    users.signed_in(db, name)
    audit.record(db, f"user:{name}", "login", name, address=auth.address())


def start_session(name: str) -> None:
    """A session for a user whose password was just checked (the first admin, at setup)."""
    hours = float(current_app.config["SESSION_HOURS"])
    session["sid"] = sessions_db.create(get_db(), name, hours, auth.address())
    session.permanent = True


def sign_out() -> str | None:
    sid = session.pop("sid", None)
    if not isinstance(sid, str):
        return None
    db = get_db()
    live = sessions_db.lookup(db, sid)
    sessions_db.end(db, sid)
    if live is not None:
        audit.record(db, f"user:{live.user}", "logout", live.user, address=auth.address())
        return live.user
    return None


def reauthenticate(password: str) -> None:
    """The signed-in user's password again: refreshes the session's password check."""
    ident = auth.current()
    if ident is None or ident.kind != "user" or ident.session_id is None:
        return  # tokens are fresh credentials already
    check_password(ident.name, password, "reauth")
    sessions_db.password_checked(get_db(), ident.session_id)
    audit.record(get_db(), ident.principal, "reauth", ident.name, address=auth.address())


def _csrf_error(exc: CSRFError) -> Response:
    if errors.wants_json():
        return json_response(
            ErrorBody(error="csrf_failed", message=f"{exc.description} (send `X-CSRFToken`)."), 400
        )
    # a stale tab or a form from elsewhere: a page that says what to do (templates/error.html)
    message = "This form has expired or did not come from this site. Go back, reload the page and try again."
    return errors.answer(ErrorBody(error="csrf_failed", message=message), 400)


def init_app(app: Flask) -> None:
    app.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        PERMANENT_SESSION_LIFETIME=timedelta(hours=float(app.config["SESSION_HOURS"])),
        WTF_CSRF_CHECK_DEFAULT=False,  # leader.auth decides (Bearer requests are exempt)
        WTF_CSRF_TIME_LIMIT=None,  # valid as long as the session: a page left open still works
    )
    proxies = int(app.config["TRUSTED_PROXIES"])
    if proxies > 0:
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies, x_port=proxies
        )
    csrf.init_app(app)
    app.register_error_handler(CSRFError, _csrf_error)

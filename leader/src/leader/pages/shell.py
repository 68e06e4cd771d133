"""What every page shares: security headers, content-hashed asset URLs, who is signed in, the navigation
(with the open alerts' count, kept live by static/js/alerts_nav.js), and the formatting of times, ages
and sizes (in the lab's `TIMEZONE`; the browser re-renders them in its locale, see static/js/time.js).
"""

from __future__ import annotations

import hashlib
import math
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import Flask, Response, current_app, request, url_for
from markupsafe import Markup

from .. import auth
from ..db import alerts as alerts_db
from ..db import changes, get_db

# No inline script or style anywhere: every behaviour is a file under static/js, every style in app.css.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}
ONE_YEAR = 365 * 24 * 3600

# (label, endpoint): a page appears in the navigation once its endpoint exists.
NAV = [
    ("Dashboard", "dashboard.index"),
    ("Experiments", "experiments.index"),
    ("Units", "units.index"),
    ("Operations", "operations.index"),
    ("Logs", "logs.index"),
    ("Schedules", "schedules.index"),
    ("Profiles", "profiles.index"),
    ("Config", "config.index"),
    ("Alerts", "alerts.index"),
    ("People", "people.index"),
]  # your own account: the signed-in name in the header links to it


def can(role: str) -> bool:
    """Whether the signed-in person may act at `role` (hides buttons they could not use; /api decides)."""
    return auth.has_role(role)


# -- assets ---------------------------------------------------------------------------------------------
_hashes: dict[str, str] = {}


def asset_url(path: str) -> str:
    """`/static/<path>?v=<content hash>`: a new release never meets a stale browser cache."""
    digest = _hashes.get(path)
    if digest is None:
        file = Path(current_app.static_folder or "static") / path
        digest = hashlib.sha256(file.read_bytes()).hexdigest()[:16]
        _hashes[path] = digest
    return url_for("static", filename=path, v=digest)


def _headers(response: Response) -> Response:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    if request.path.startswith("/static/") and request.args.get("v") and response.status_code == 200:
        response.headers["Cache-Control"] = f"public, max-age={ONE_YEAR}, immutable"
    return response


# -- formatting -----------------------------------------------------------------------------------------
def lab_zone() -> ZoneInfo:
    name = current_app.config.get("TIMEZONE") or "UTC"
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def parse_iso(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def age_text(seconds: float) -> str:
    if seconds < 60:
        return "just now" if seconds < 5 else f"{int(seconds)} s ago"
    for size, unit in ((86400, "d"), (3600, "h"), (60, "min")):
        if seconds >= size:
            return f"{int(seconds // size)} {unit} ago"
    return "just now"


def time_tag(value: str | None, kind: str = "datetime") -> Markup:
    """`<time>` with the ISO value; the text is the lab's local time (or an age) until JS localizes it."""
    when = parse_iso(value)
    if when is None:
        return Markup('<span class="muted">never</span>')
    iso = when.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if kind == "age":
        text = age_text((datetime.now(UTC) - when).total_seconds())
    else:
        text = when.astimezone(lab_zone()).strftime("%Y-%m-%d %H:%M:%S")
    return Markup('<time datetime="{}" data-{}>{}</time>').format(iso, kind, text)


def size_text(n: float | None) -> str:
    if n is None:
        return "unknown"
    units = ["B", "KB", "MB", "GB", "TB"]
    i = min(int(math.log(max(n, 1), 1024)), len(units) - 1)
    return f"{n / 1024**i:.1f} {units[i]}" if i else f"{int(n)} B"


def percent(x: float | None) -> Markup:
    """A fraction as a percentage; the browser re-renders it in its locale (static/js/time.js)."""
    if x is None:
        return Markup('<span class="muted">n/a</span>')
    return Markup('<data value="{:.4f}" data-percent>{:.0f} %</data>').format(x, x * 100)


def number(n: float) -> Markup:
    return Markup('<data value="{}" data-number>{}</data>').format(n, n)


def nav_alerts(after: int | None = None) -> dict[str, Any] | None:
    """For the navigation's Alerts link (base.html calls it, so partial templates cost nothing): the open
    alerts' count and the GET /api/events cursor that keeps it live. The cursor is read first (or given by
    a page that read it before its own data): an alert opening in between is counted and sent too, and
    the events carry the count, so the page ends right either way. None for whoever may not read alerts."""
    if not auth.has_role("viewer") or "alerts.index" not in current_app.view_functions:
        return None
    try:
        db = get_db()
        if after is None:
            after = changes.latest(db)
        return {"count": alerts_db.open_count(db), "after": after}
    except sqlite3.Error:  # the error page of a store that fails: the page matters more than the count
        return None


def _context() -> dict[str, Any]:
    # a page appears once its endpoint exists, and only to those who may open it (People: admins)
    nav = [
        (label, ep)
        for label, ep in NAV
        if ep in current_app.view_functions and (ep != "people.index" or auth.has_role("admin"))
    ]
    csrf = current_app.jinja_env.globals.get("csrf_token")
    return {
        "who": auth.current(),
        "can": can,
        "nav": nav,
        "account_endpoints": {ep for ep in ("account.index_account",) if ep in current_app.view_functions},
        "csrf_value": csrf() if callable(csrf) else "",
        "lab_timezone": lab_zone().key,
    }


def init_app(app: Flask) -> None:
    app.after_request(_headers)
    app.context_processor(_context)
    app.jinja_env.globals["asset_url"] = asset_url
    app.jinja_env.globals["nav_alerts"] = nav_alerts
    app.jinja_env.filters["time"] = time_tag
    app.jinja_env.filters["age"] = lambda v: time_tag(v, "age")
    app.jinja_env.filters["size"] = size_text
    app.jinja_env.filters["percent"] = percent
    app.jinja_env.filters["number"] = number

"""Setup state: incomplete until the wizard's last step (`POST /api/setup/complete`), or until
`flask --app leader users create --role admin` (or `make run`) makes an admin.

While incomplete, every page redirects to `/setup` (leader.auth), `GET /api/health` answers
`"setup_complete": false`, and the web server prints a one-time setup code in its log at start; the first
admin can only be created with it (`POST /setup/admin`), so nobody else on the network claims the cluster
first. The store keeps only the code's sha256. gunicorn's master gives all its workers one boot id
(deploy/leader/gunicorn.conf.py sets BOOT_ENV), and the code is made under the store's write lock for a
boot id not seen before, so exactly one worker of a start prints it. `flask --app leader setup code` makes a
new one (the old one stops working).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import secrets
import sqlite3

from flask import Flask, current_app, has_app_context

from .db import audit, connect, transaction
from .db import settings as settings_db

log = logging.getLogger("leader.setup")

BOOT_ENV = "PIOREACTOR_LEADER_BOOT"
COMPLETE = "setup_complete"
CODE = "setup_code"  # {"sha256", "boot"}
_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L: read from a log, typed by hand
# once complete, setup never comes back: no store read per page after that (per store: tests run many)
_seen_complete: set[str] = set()


def _digest(code: str) -> str:
    return hashlib.sha256(code.replace("-", "").replace(" ", "").upper().encode()).hexdigest()


def is_complete(db: sqlite3.Connection) -> bool:
    key = current_app.config["DATABASE"] if has_app_context() else ""
    if key in _seen_complete:
        return True
    done = bool(settings_db.get(db, COMPLETE, False))
    if done and key:
        _seen_complete.add(key)
    return done


def complete(db: sqlite3.Connection, actor: str) -> None:
    with transaction(db):
        if not settings_db.get(db, COMPLETE, False):
            settings_db.put(db, COMPLETE, True)
            db.execute("DELETE FROM settings WHERE key = ?", (CODE,))
            audit.record(db, actor, "setup.complete")


def new_code(db: sqlite3.Connection, boot: str = "") -> str:
    code = "-".join("".join(secrets.choice(_ALPHABET) for _ in range(4)) for _ in range(3))
    settings_db.put(db, CODE, {"sha256": _digest(code), "boot": boot})
    return code


def announce(db: sqlite3.Connection, boot: str) -> str | None:
    """At web start: a new code for this boot (printed in the log), or None (complete, or printed already
    by another worker of the same start)."""
    with transaction(db):
        if settings_db.get(db, COMPLETE, False):
            return None
        stored = settings_db.get(db, CODE)
        if stored and stored.get("boot") == boot:
            return None
        code = new_code(db, boot)
    log.warning(
        "SETUP IS INCOMPLETE. One-time setup code: %s - open /setup on this leader and enter it to "
        "create the first admin (or run `flask --app leader users create NAME --role admin`).",
        code,
    )
    return code


def code_matches(db: sqlite3.Connection, code: str) -> bool:
    stored = settings_db.get(db, CODE)
    return bool(stored) and hmac.compare_digest(stored["sha256"], _digest(code))


def forget_code(db: sqlite3.Connection) -> None:
    with transaction(db):
        db.execute("DELETE FROM settings WHERE key = ?", (CODE,))


def init_app(app: Flask) -> None:
    boot = os.environ.get(BOOT_ENV)
    if boot:  # a web server start (gunicorn); CLI commands and the worker print nothing
        db = connect(app.config["DATABASE"])
        try:
            announce(db, boot)
        finally:
            db.close()

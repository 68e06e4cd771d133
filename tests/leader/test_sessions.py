"""Cookie flags and proxy trust are settings (in-process; the behaviour over gunicorn is in
tests/cluster/test_people.py)."""

from __future__ import annotations

import re
import time
from pathlib import Path

from flask.testing import FlaskClient

from leader import passwords, setup
from leader.db import audit, connect, users
from tests.leader.conftest import make_app


def _login(client: FlaskClient, address: str) -> tuple[int, str]:
    page = client.get("/login").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert csrf, page
    r = client.post(
        "/login",
        data={"username": "ada", "password": "a long password", "csrf_token": csrf[1]},
        headers={"X-Forwarded-For": address},
    )
    return r.status_code, r.headers.get("Set-Cookie", "")


def _app(tmp: Path, **settings: object) -> FlaskClient:
    app = make_app(tmp, **{"LOGIN_FAILURE_DELAY": 0.0, **settings})
    db = connect(app.config["DATABASE"])
    users.create(db, "ada", passwords.hash_password("a long password"), "viewer")
    setup.complete(db, "test")
    db.close()
    return app.test_client()


def test_proxy_headers_ignored_unless_trusted(tmp_path: Path) -> None:
    client = _app(tmp_path / "a")
    status, cookie = _login(client, "203.0.113.9")
    assert status == 303 and "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    db = connect(str(tmp_path / "a" / "leader.sqlite"))
    assert audit.page(db, action="login").entries[0].address == "127.0.0.1"  # the header was not believed
    db.close()

    trusting = _app(tmp_path / "b", TRUSTED_PROXIES=1, SESSION_COOKIE_SECURE=True)
    status, cookie = _login(trusting, "203.0.113.9")
    assert status == 303 and "Secure" in cookie
    db = connect(str(tmp_path / "b" / "leader.sqlite"))
    assert audit.page(db, action="login").entries[0].address == "203.0.113.9"
    db.close()


def test_login_form_needs_its_csrf_token(tmp_path: Path) -> None:
    client = _app(tmp_path)
    client.get("/login")
    r = client.post("/login", data={"username": "ada", "password": "a long password"})
    assert r.status_code == 400 and r.mimetype == "text/html"  # a form gets the friendly page
    r = client.post("/login", json={"username": "ada", "password": "a long password"})
    assert r.status_code == 400 and r.json and r.json["error"] == "csrf_failed"  # a program gets JSON


def test_every_failure_is_slowed_and_says_the_same(tmp_path: Path) -> None:
    client = _app(tmp_path, LOGIN_FAILURE_DELAY=0.3)
    page = client.get("/login").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert csrf, page
    answers = []
    for name in ("ada", "nobody"):  # a wrong password, an unknown user
        started = time.monotonic()
        r = client.post(
            "/login",
            json={"username": name, "password": "not the password"},
            headers={"X-CSRFToken": csrf[1]},
        )
        answers.append((r.status_code, r.json, time.monotonic() - started >= 0.3))
    assert answers[0] == answers[1] == (401, answers[0][1], True), answers
    assert answers[0][1] and answers[0][1]["message"] == "Wrong user name or password."

"""People through real HTTP: a real gunicorn leader with three workers (and its worker process).

The leader trusts one proxy (TRUSTED_PROXIES = 1), so each test speaks from an address of its own
(`X-Forwarded-For`) and the per-address sign-in limit of one test never blocks another.
"""

from __future__ import annotations

import re
import sqlite3
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from devcluster.broker import Broker
from devcluster.cluster import Cluster
from devcluster.procs import wait_for

pytestmark = [pytest.mark.cluster, pytest.mark.xdist_group("people"), pytest.mark.timeout(120)]

SETTINGS = {"TRUSTED_PROXIES": 1, "LOGIN_FAILURE_DELAY": 0.05}


@pytest.fixture(scope="module")
def leader(tmp_path_factory: pytest.TempPathFactory, mqtt_broker: Broker) -> Iterator[Cluster]:
    c = Cluster(
        tmp_path_factory.mktemp("people"),
        units=0,
        broker=mqtt_broker,
        web_workers=3,
        leader_settings=SETTINGS,
    )
    c.start()
    try:
        yield c
    finally:
        c.stop()


class Browser:
    """A browser of one address: cookies, the CSRF token of the last form, fresh connections."""

    def __init__(self, leader: Cluster, address: str | None = None) -> None:
        self.url = leader.leader_url
        self.address = address or f"10.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}.7"
        self.http = requests.Session()
        self.csrf = ""

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        headers = {"X-Forwarded-For": self.address, "Connection": "close", **kwargs.pop("headers", {})}
        kwargs.setdefault("allow_redirects", False)
        return self.http.request(method, self.url + path, headers=headers, timeout=20, **kwargs)

    def form(self, path: str = "/login") -> str:
        page = self.request("GET", path)
        assert page.status_code == 200, page.text
        found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert found, page.text
        self.csrf = found[1]
        return page.text

    def login(self, name: str, password: str, next_path: str = "") -> requests.Response:
        if not self.csrf:
            self.form()
        data = {"username": name, "password": password, "csrf_token": self.csrf, "next": next_path}
        return self.request("POST", "/login", data=data)

    def api(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        headers = {"X-CSRFToken": self.csrf, **kwargs.pop("headers", {})}
        return self.request(method, path, headers=headers, **kwargs)


PASSWORD = "correct horse battery"


def _user(leader: Cluster, role: str, password: str = PASSWORD) -> str:
    name = f"{role[:3]}{uuid.uuid4().hex[:6]}"
    r = leader.api("POST", "/api/users", json={"name": name, "password": password, "role": role})
    assert r.status_code == 201, r.text
    assert r.json() == {
        "name": name,
        "role": role,
        "created_at": r.json()["created_at"],
        "last_login_at": None,
    }
    return name


def _store(leader: Cluster) -> sqlite3.Connection:
    return sqlite3.connect(leader.leader_dir / "leader.sqlite", timeout=10)


def test_login_form_session_cookie_csrf_and_logout(leader: Cluster) -> None:
    b = Browser(leader)
    page = b.form()
    for field in ('name="username"', 'name="password"', 'name="csrf_token"'):
        assert field in page
    r = b.login(leader.admin_user, leader.admin_password, "/operations?status=running")
    assert r.status_code == 303 and r.headers["Location"] == "/operations?status=running"
    cookie = r.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    me = b.api("GET", "/api/me").json()
    assert me["name"] == "admin" and me["role"] == "admin" and me["kind"] == "user" and me["csrf_token"]

    # a change over the cookie needs the CSRF token; a read does not
    no_csrf = b.request("POST", "/api/experiments", json={"name": "no-csrf"})
    assert no_csrf.status_code == 400 and no_csrf.json()["error"] == "csrf_failed", no_csrf.text
    assert b.api("POST", "/api/experiments", json={"name": "by-admin"}).status_code == 201
    # a stolen cookie jar without the session (another browser) is anonymous
    assert Browser(leader).api("GET", "/api/me").status_code == 401

    assert b.api("POST", "/logout").status_code == 303
    assert b.api("GET", "/api/me").status_code == 401


def test_next_goes_only_to_local_paths(leader: Cluster) -> None:
    for bad in ("https://evil.example/x", "//evil.example", "/\\evil.example", "javascript:alert(1)"):
        b = Browser(leader)
        r = b.login(leader.viewer_user, leader.viewer_password, bad)
        assert r.status_code == 303 and r.headers["Location"] == "/", (bad, r.headers["Location"])


def test_wrong_password_and_unknown_user_look_the_same(leader: Cluster) -> None:
    b = Browser(leader)
    wrong = b.login(leader.viewer_user, "not the password")
    unknown = b.login("nobody-at-all", "not the password")
    assert wrong.status_code == unknown.status_code == 401
    assert "Wrong user name or password." in wrong.text and "Wrong user name or password." in unknown.text
    js = Browser(leader)
    js.form()
    wrong_json = js.api("POST", "/login", json={"username": "nobody", "password": "x"})
    assert wrong_json.status_code == 401 and wrong_json.json()["message"] == "Wrong user name or password."


def test_sixth_failure_per_user_is_refused_across_workers(leader: Cluster) -> None:
    name = _user(leader, "viewer")
    for i in range(5):  # each from an address of its own, on a fresh connection (any of the 3 workers)
        assert Browser(leader).login(name, f"wrong-{i}").status_code == 401
    sixth = Browser(leader).login(name, PASSWORD)  # even the right password, for now
    assert sixth.status_code == 429, sixth.text
    assert 1 <= int(sixth.headers["Retry-After"]) <= 60
    assert "try again in" in sixth.text


def _served_by_worker(leader: Cluster) -> dict[str, float]:
    """Requests each live gunicorn worker has served, by pid (from /metrics)."""
    text = leader.api("GET", "/metrics").text
    return {
        s.labels["pid"]: s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name == "pioreactor_http_worker_requests"
    }


def test_racing_failures_on_several_workers_never_pass_the_limit(leader: Cluster) -> None:
    """Thirty wrong passwords for one user at once, each from an address of its own on a fresh connection:
    the workers share one count in the store, so exactly five are checked and the rest are told to wait."""
    name = _user(leader, "viewer")
    browsers = [Browser(leader) for _ in range(30)]
    for b in browsers:
        b.form()  # each its CSRF token first: the burst below is only sign-ins
    before = _served_by_worker(leader)
    with ThreadPoolExecutor(10) as pool:
        answers = list(pool.map(lambda b: b.login(name, "wrong password"), browsers))
    after = _served_by_worker(leader)
    assert sorted(r.status_code for r in answers) == [401] * 5 + [429] * 25
    assert all(1 <= int(r.headers["Retry-After"]) <= 60 for r in answers if r.status_code == 429)
    busy = [pid for pid, n in after.items() if n - before.get(pid, 0) > 1]  # > 1: not just the scrape
    assert len(busy) > 1, (before, after)


def test_sixth_failure_per_address_is_refused(leader: Cluster) -> None:
    address = "192.0.2.66"
    for i in range(5):
        assert Browser(leader, address).login(f"guess{i}", "password123").status_code == 401
    r = Browser(leader, address).login(leader.viewer_user, leader.viewer_password)
    assert r.status_code == 429 and int(r.headers["Retry-After"]) >= 1
    # another address is not affected
    assert Browser(leader).login(leader.viewer_user, leader.viewer_password).status_code == 303


def test_password_or_role_change_ends_sessions(leader: Cluster) -> None:
    name = _user(leader, "operator")
    b = Browser(leader)
    assert b.login(name, PASSWORD).status_code == 303
    assert b.api("GET", "/api/me").json()["role"] == "operator"
    r = leader.api("PATCH", f"/api/users/{name}", json={"password": "another good password"})
    assert r.status_code == 200, r.text
    assert b.api("GET", "/api/me").status_code == 401

    assert b.login(name, "another good password").status_code == 303
    assert leader.api("PATCH", f"/api/users/{name}", json={"role": "viewer"}).status_code == 200
    assert b.api("GET", "/api/me").status_code == 401
    assert b.login(name, "another good password").status_code == 303
    assert b.api("GET", "/api/me").json()["role"] == "viewer"


def test_dangerous_actions_need_a_recent_password(leader: Cluster) -> None:
    b = Browser(leader)
    assert b.login(leader.admin_user, leader.admin_password).status_code == 303
    fresh = b.api(
        "POST", "/api/users", json={"name": "fresh-one", "password": "a long password", "role": "viewer"}
    )
    assert fresh.status_code == 201, fresh.text
    with _store(leader) as db:  # the password check was 11 minutes ago
        db.execute(
            "UPDATE sessions SET password_checked_at = '2000-01-01T00:00:00.000Z' WHERE user = 'admin'"
        )
    body = {"name": "stale-one", "password": "a long password", "role": "viewer"}
    stale = b.api("POST", "/api/users", json=body)
    assert stale.status_code == 403 and stale.json()["error"] == "reauth_required", stale.text
    assert b.api("GET", "/api/users").status_code == 200  # reads are not dangerous
    assert b.api("POST", "/api/reauth", json={"password": "wrong"}).status_code == 401
    assert b.api("POST", "/api/reauth", json={"password": leader.admin_password}).status_code == 204
    assert b.api("POST", "/api/users", json=body).status_code == 201
    # a Bearer token is a fresh credential
    assert leader.api("DELETE", "/api/users/stale-one").status_code == 204


def test_tokens_with_roles_capped_by_demotion_revoked_by_deletion(leader: Cluster) -> None:
    name = _user(leader, "operator")
    b = Browser(leader)
    assert b.login(name, PASSWORD).status_code == 303
    too_high = b.api("POST", "/api/tokens", json={"name": "x", "role": "admin"})
    assert too_high.status_code == 403, too_high.text
    created = b.api("POST", "/api/tokens", json={"name": "script"})
    assert created.status_code == 201 and created.json()["role"] == "operator"
    assert created.json()["owner"] == name
    bearer = {"Authorization": f"Bearer {created.json()['token']}"}
    other = leader.api("POST", "/api/tokens", json={"name": "admins-own"}).json()

    mine = b.api("GET", "/api/tokens").json()
    assert [t["id"] for t in mine] == [created.json()["id"]]
    everyone = {t["id"] for t in leader.api("GET", "/api/tokens").json()}
    assert {created.json()["id"], other["id"]} <= everyone
    # not another's token; an admin may
    assert b.api("DELETE", f"/api/tokens/{other['id']}").status_code == 403

    assert (
        b.request("POST", "/api/experiments", json={"name": f"t-{name}"}, headers=bearer).status_code == 201
    )
    assert leader.api("PATCH", f"/api/users/{name}", json={"role": "viewer"}).status_code == 200
    capped = b.request("POST", "/api/experiments", json={"name": f"u-{name}"}, headers=bearer)
    assert capped.status_code == 403 and "needs the operator role" in capped.json()["message"]
    assert b.request("GET", "/api/me", headers=bearer).json() == {
        "name": name,
        "role": "viewer",
        "kind": "token",
        "token_id": created.json()["id"],
        "csrf_token": None,
    }
    assert leader.api("DELETE", f"/api/users/{name}").status_code == 204
    assert b.request("GET", "/api/me", headers=bearer).status_code == 401


def test_users_rules(leader: Cluster) -> None:
    weak = leader.api("POST", "/api/users", json={"name": "weakling", "password": "short", "role": "viewer"})
    assert weak.status_code == 400 and "$.password" in weak.json()["message"]
    same = leader.api("POST", "/api/users", json={"name": "sameasname", "password": "sameasname"})
    assert same.status_code == 400 and "$.password" in same.json()["message"]
    bad = leader.api("POST", "/api/users", json={"name": "Bad Name", "password": "a long password"})
    assert bad.status_code == 400 and "$.name" in bad.json()["message"]
    assert (
        leader.api("POST", "/api/users", json={"name": "admin", "password": "a long password"}).status_code
        == 409
    )
    # the only admin can be neither demoted nor removed
    admins = [u for u in leader.api("GET", "/api/users").json() if u["role"] == "admin"]
    assert [u["name"] for u in admins] == ["admin"]
    assert leader.api("PATCH", "/api/users/admin", json={"role": "operator"}).status_code == 409
    assert leader.api("DELETE", "/api/users/admin").status_code == 409
    second = _user(leader, "admin")
    assert leader.api("PATCH", "/api/users/admin", json={"role": "operator"}).status_code == 200
    assert leader.api("DELETE", f"/api/users/{second}").status_code == 409  # now the last admin
    assert leader.api("PATCH", "/api/users/admin", json={"role": "admin"}).status_code == 200
    assert leader.api("DELETE", f"/api/users/{second}").status_code == 204


def test_requested_by_names_who(leader: Cluster) -> None:
    assert leader.api("POST", "/api/experiments", json={"name": "who"}).status_code in (201, 409)
    by_token = leader.api("POST", "/api/exports", json={"experiments": ["who"]}).json()["operation"]
    token_id = leader.api("GET", "/api/me").json()["token_id"]
    assert by_token["requested_by"] == f"token:{token_id}"
    b = Browser(leader)
    assert b.login(leader.admin_user, leader.admin_password).status_code == 303
    by_user = b.api("POST", "/api/exports", json={"experiments": ["who"]}).json()["operation"]
    assert by_user["requested_by"] == "user:admin" and by_user["trigger"] == "ui"
    listed = {o["id"]: o["requested_by"] for o in leader.api("GET", "/api/operations").json()["operations"]}
    assert listed[by_user["id"]] == "user:admin"


def test_audit_records_each_kind_of_event(leader: Cluster) -> None:
    b = Browser(leader)
    assert b.login(leader.admin_user, leader.admin_password).status_code == 303
    assert Browser(leader).login(leader.admin_user, "wrong password").status_code == 401
    name = _user(leader, "viewer")
    assert leader.api("PATCH", f"/api/users/{name}", json={"role": "operator"}).status_code == 200
    assert leader.api("PATCH", f"/api/users/{name}", json={"password": "yet another one"}).status_code == 200
    token = leader.api("POST", "/api/tokens", json={"name": "audited"}).json()
    assert leader.api("DELETE", f"/api/tokens/{token['id']}").status_code == 204
    # a revoked token is refused even beside a live session cookie
    revoked = b.request("GET", "/api/me", headers={"Authorization": f"Bearer {token['token']}"})
    assert revoked.status_code == 401, revoked.text
    assert leader.api("DELETE", f"/api/users/{name}").status_code == 204
    config = leader.api(
        "PUT", "/api/config/files/config.ini", json={"content": "[stirring]\ntarget_rpm=400\n"}
    )
    assert config.status_code == 200, config.text
    assert leader.api("POST", "/api/experiments", json={"name": "to-delete"}).status_code == 201
    assert b.api("DELETE", "/api/experiments/to-delete").status_code == 204
    assert (
        leader.api("POST", "/api/units", json={"name": "gone-unit", "address": "127.0.0.1"}).status_code
        == 201
    )
    assert leader.api("DELETE", "/api/units/gone-unit").status_code == 204
    assert b.api("POST", "/logout").status_code == 303

    entries = leader.api("GET", "/api/audit?limit=500").json()["entries"]
    seen = {(e["action"], e["target"]) for e in entries}
    for expected in [
        ("login", "admin"),
        ("login_failed", "admin"),
        ("user.create", name),
        ("user.role", name),
        ("user.password", name),
        ("user.delete", name),
        ("token.create", f"token:{token['id']}"),
        ("token.revoke", f"token:{token['id']}"),
        ("config.edit", "config.ini"),
        ("experiment.delete", "to-delete"),
        ("unit.delete", "gone-unit"),
        ("logout", "admin"),
    ]:
        assert expected in seen, expected
    deleted = next(e for e in entries if e["action"] == "experiment.delete")
    assert (
        deleted["actor"] == "user:admin" and deleted["address"] == b.address and deleted["at"].endswith("Z")
    )
    role = next(e for e in entries if e["action"] == "user.role" and e["target"] == name)
    assert role["detail"] == {"from": "viewer", "to": "operator"}
    assert not any("password" in str(e["detail"]).lower() and "yet another" in str(e) for e in entries)

    # keyset pages: newest first, no overlap
    first = leader.api("GET", "/api/audit?limit=3").json()
    second = leader.api("GET", f"/api/audit?limit=3&before={first['next']}").json()
    ids = [e["id"] for e in first["entries"] + second["entries"]]
    assert ids == sorted(ids, reverse=True) and len(set(ids)) == 6
    viewer = Browser(leader)
    assert viewer.login(leader.viewer_user, leader.viewer_password).status_code == 303
    assert viewer.api("GET", "/api/audit").status_code == 403


@pytest.fixture
def fresh(tmp_path_factory: pytest.TempPathFactory, mqtt_broker: Broker) -> Iterator[Cluster]:
    """A leader nobody has set up yet (no users, setup incomplete)."""
    c = Cluster(tmp_path_factory.mktemp("fresh"), units=0, broker=mqtt_broker, web_workers=3, people=False)
    c.leader_settings = dict(SETTINGS)
    c.start()
    try:
        yield c
    finally:
        c.stop()


def test_setup_code_printed_once_and_required(fresh: Cluster) -> None:
    assert fresh.leader_web is not None
    pattern = re.compile(r"One-time setup code: ([A-Z0-9-]+)")
    wait_for(lambda: pattern.search(fresh.leader_web.output()) is not None, 20, 0.1, "setup code")  # type: ignore[union-attr]
    codes = pattern.findall(fresh.leader_web.output())
    assert len(codes) == 1, codes  # three workers, one code printed
    code = codes[0]
    health = requests.get(fresh.leader_url + "/api/health", timeout=10).json()
    assert health["setup_complete"] is False

    b = Browser(fresh)
    assert b.request("GET", "/login").headers["Location"] == "/setup"  # pages lead to setup
    b.form("/setup")
    wrong = b.api(
        "POST",
        "/setup/admin",
        json={"setup_code": "AAAA-BBBB-CCCC", "name": "boss", "password": "a good password"},
    )
    assert wrong.status_code == 403 and wrong.json()["error"] == "wrong_setup_code"
    weak = b.api("POST", "/setup/admin", json={"setup_code": code, "name": "boss", "password": "boss"})
    assert weak.status_code == 400 and "$.password" in weak.json()["message"]
    made = b.api(
        "POST", "/setup/admin", json={"setup_code": code, "name": "boss", "password": "a good password"}
    )
    assert made.status_code == 201 and made.json()["role"] == "admin", made.text
    again = Browser(fresh)
    again.form("/login")  # reachable once an admin exists (the wizard's admin may sign in again)
    body = {"setup_code": code, "name": "eve", "password": "a good password"}
    second = again.api("POST", "/setup/admin", json=body)
    assert second.status_code == 409 and second.json()["error"] == "setup_done", second.text

    me = b.api("GET", "/api/me").json()
    assert me["name"] == "boss" and me["kind"] == "user"
    b.csrf = me["csrf_token"]
    assert b.api("POST", "/api/setup/complete").json() == {"setup_complete": True}
    assert requests.get(fresh.leader_url + "/api/health", timeout=10).json()["setup_complete"] is True
    assert b.request("GET", "/setup").headers["Location"] == "/"
    entries = fresh.api("GET", "/api/audit").json()["entries"]
    assert {"setup.complete", "user.create", "setup_code_failed"} <= {e["action"] for e in entries}

"""What credentials cost per request, through the real app (Flask, the one auth check, the store):

- GET /api/health (public: no credentials checked) - the baseline
- GET /api/me with a Bearer token (one indexed SELECT joined with users)
- GET /api/me with a session cookie (signed cookie + one indexed SELECT joined with users)
- one password check (werkzeug scrypt, n=2**15 r=8 p=1): what a sign-in costs, by design

    .venv/bin/python bench/auth.py      # BENCH_REQUESTS=2000
"""

from __future__ import annotations

import os
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from devcluster.store_fill import leader_app  # noqa: E402
from leader import passwords, setup  # noqa: E402
from leader.db import connect, tokens, users  # noqa: E402

N = int(os.environ.get("BENCH_REQUESTS", "2000"))


def timed(fn: Callable[[], object], n: int) -> float:
    """Median microseconds of n calls."""
    samples = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t0)
    return statistics.median(samples) * 1e6


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        app = leader_app(tmp)
        db = connect(app.config["DATABASE"])
        token = tokens.create(db, "bench").token
        users.create(db, "bench", passwords.hash_password("bench password"), "viewer")
        setup.complete(db, "bench")
        db.close()

        anonymous, bearer, browser = app.test_client(), app.test_client(), app.test_client()
        bearer.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token}"
        page = browser.get("/login").get_data(as_text=True)
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page)
        assert csrf
        r = browser.post(
            "/login", data={"username": "bench", "password": "bench password", "csrf_token": csrf[1]}
        )
        assert r.status_code == 303, r.status_code

        def ok(client: object, path: str) -> Callable[[], object]:
            def call() -> object:
                r = client.get(path)  # type: ignore[attr-defined]
                assert r.status_code == 200
                return r

            return call

        base = timed(ok(anonymous, "/api/health"), N)
        with_token = timed(ok(bearer, "/api/me"), N)
        with_session = timed(ok(browser, "/api/me"), N)
        stored = passwords.hash_password("bench password")
        check = timed(lambda: passwords.verify(stored, "bench password"), 20)
    print(f"GET /api/health, no credentials (baseline): {base:8.0f} us median over {N}")
    print(f"GET /api/me with a Bearer token:            {with_token:8.0f} us (+{with_token - base:.0f})")
    print(f"GET /api/me with a session cookie:          {with_session:8.0f} us (+{with_session - base:.0f})")
    print(f"one password check (scrypt), sign-in only:  {check:8.0f} us median over 20")


if __name__ == "__main__":
    main()

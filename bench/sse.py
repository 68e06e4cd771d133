"""SSE capacity of the leader's web process: N browsers each watching an operation (`/api/operations/<id>/
events`) while `/api` answers other requests. Real gunicorn with deploy/leader/gunicorn.conf.py.

    .venv/bin/python bench/sse.py   # BENCH_STREAMS=200 BENCH_REQUESTS=300
    (LEADER_WEB_WORKERS and LEADER_WEB_THREADS choose the worker counts, as in deployment)

The operations stay queued (no leader worker runs), so each stream stays open, polling the store like a
stream of a running operation does. Prints /api p50/p99 latency with the streams held.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from devcluster.procs import Proc, free_port, http_ok, wait_for  # noqa: E402
from leader.db import connect, migrate  # noqa: E402
from leader.db import operations as ops_db  # noqa: E402

STREAMS = int(os.environ.get("BENCH_STREAMS", "200"))
REQUESTS = int(os.environ.get("BENCH_REQUESTS", "300"))


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="bench-sse-"))
    port = free_port()
    db_path = str(work / "leader.sqlite")
    migrate.init_db(db_path)
    db = connect(db_path)
    ops = [ops_db.create(db, "job.start", {}, ["unit1"], "api").id for _ in range(STREAMS)]
    db.close()
    (work / "leader.toml").write_text(
        f'LISTEN = "127.0.0.1:{port}"\nDATABASE = "{db_path}"\nHUEY_DB = "{work}/huey.sqlite"\n'
        f'SECRET_KEY = "{"x" * 32}"\nCLUSTER_TOKEN_FILE = "{work}/token"\n'
    )
    env = {
        "LEADER_CONFIG": str(work / "leader.toml"),
        "LEADER_INSTANCE_PATH": str(work),
        "APP_ENV": "development",
    }
    for name in ("LEADER_WEB_WORKERS", "LEADER_WEB_THREADS"):
        if name in os.environ:
            env[name] = os.environ[name]
    web = Proc(
        [sys.executable, "-m", "gunicorn", "--config", str(REPO / "deploy/leader/gunicorn.conf.py")],
        work / "web.log",
        env,
        cwd=REPO,
    )
    base = f"http://127.0.0.1:{port}"
    stop = threading.Event()
    opened = threading.Semaphore(0)
    try:
        wait_for(lambda: http_ok(base + "/api/health"), 30, 0.1, "leader web")

        def hold(op_id: str) -> None:
            try:
                with requests.get(f"{base}/api/operations/{op_id}/events", stream=True, timeout=120) as r:
                    first = True
                    for _ in r.iter_lines():
                        if first:
                            opened.release()
                            first = False
                        if stop.is_set():
                            return
            except requests.RequestException:
                if not stop.is_set():
                    raise
                # the leader stopped at the end of the bench while this stream was still open

        threads = [threading.Thread(target=hold, args=(op,), daemon=True) for op in ops]
        for t in threads:
            t.start()
        t0 = time.monotonic()
        for _ in ops:
            if not opened.acquire(timeout=60):
                raise SystemExit(f"streams did not all open within 60 s ({base})")
        print(f"{STREAMS} streams open in {time.monotonic() - t0:.1f} s")
        session = requests.Session()
        latencies = []
        for i in range(REQUESTS):
            path = "/api/units" if i % 2 else f"/api/operations/{ops[i % len(ops)]}"
            t = time.perf_counter()
            r = session.get(base + path, timeout=30)
            latencies.append((time.perf_counter() - t) * 1000)
            assert r.status_code == 200, r.text
        latencies.sort()
        p50 = statistics.median(latencies)
        p99 = latencies[int(len(latencies) * 0.99) - 1]
        verdict = "ok" if p99 <= 100 else "OVER the 100 ms target"
        print(f"/api with {STREAMS} streams held: p50 {p50:.1f} ms, p99 {p99:.1f} ms ({verdict})")
    finally:
        stop.set()
        web.stop()


if __name__ == "__main__":
    main()

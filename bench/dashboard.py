"""Dashboard render over a big store: 100 units and 10,000 operations (each with steps on 3 units), through
the real app (Flask, Jinja). Target: first render <= 300 ms.

    .venv/bin/python bench/dashboard.py      # BENCH_UNITS=100 BENCH_OPERATIONS=10000
"""

from __future__ import annotations

import json
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ["APP_ENV"] = "development"

from devcluster.store_fill import leader_app  # noqa: E402
from leader import setup  # noqa: E402
from leader.db import connect, migrate, transaction  # noqa: E402

N_UNITS = int(os.environ.get("BENCH_UNITS", "100"))
N_OPS = int(os.environ.get("BENCH_OPERATIONS", "10000"))
KINDS = ["job.start", "job.stop", "job.settings", "config.sync", "system.reboot", "export"]
STATUSES = ["succeeded"] * 8 + ["partial", "failed", "cancelled", "interrupted"]


def fill(db_path: str) -> None:
    rng = random.Random(1)
    db = connect(db_path)
    units = [f"unit{i:03d}" for i in range(N_UNITS)]
    now = datetime.now(UTC)
    with transaction(db):
        db.executemany(
            "INSERT INTO units (name, address, port, model, active, added_at) "
            "VALUES (?, ?, 4999, NULL, 1, ?)",
            [(u, u, now.isoformat()) for u in units],
        )
        db.executemany(
            "INSERT INTO presence (unit, status, changed_at, last_seen) VALUES (?, ?, ?, ?)",
            [
                (u, rng.choice(["online", "online", "offline", "lost"]), time.time(), time.time())
                for u in units
            ],
        )
        db.executemany(
            "INSERT INTO job_states (unit, experiment, job, state, updated_at) VALUES (?, ?, ?, 'ready', ?)",
            [(u, f"exp{i % 5}", "stirring", time.time()) for i, u in enumerate(units)],
        )
        for i in range(N_OPS):
            op_id = f"{i:032x}"
            created = (now - timedelta(minutes=6 * (N_OPS - i))).strftime("%Y-%m-%dT%H:%M:%S.000Z")
            targets = rng.sample(units, 3)
            db.execute(
                "INSERT INTO operations (id, kind, status, trigger, params, targets, created_at, "
                "finished_at, created_by) VALUES (?, ?, ?, 'api', '{}', ?, ?, ?, 'token:1')",
                (op_id, rng.choice(KINDS), rng.choice(STATUSES), json.dumps(targets), created, created),
            )
            db.executemany(
                "INSERT INTO operation_steps (operation_id, unit, status, detail, updated_at) "
                "VALUES (?, ?, 'ok', '', ?)",
                [(op_id, u, created) for u in targets],
            )
    db.close()


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="bench-dash-"))
    db_path = str(work / "leader.sqlite")
    migrate.init_db(db_path)
    t = time.perf_counter()
    fill(db_path)
    print(f"store: {N_UNITS} units, {N_OPS} operations ({time.perf_counter() - t:.1f} s to fill)")
    app = leader_app(work)
    db = connect(db_path)
    setup.complete(db, "bench")  # until the setup wizard is done every page leads to /setup
    db.close()
    client = app.test_client()
    timings = []
    for _ in range(20):
        t = time.perf_counter()
        r = client.get("/")
        timings.append((time.perf_counter() - t) * 1000)
        assert r.status_code == 200
    first, rest = timings[0], sorted(timings[1:])
    verdict = "ok" if first <= 300 else "OVER the 300 ms target"
    print(f"dashboard: first render {first:.0f} ms ({verdict}); then p50 {statistics.median(rest):.0f} ms")
    t = time.perf_counter()
    assert client.get("/fragments/dashboard").status_code == 200
    print(f"live fragment: {(time.perf_counter() - t) * 1000:.0f} ms")


if __name__ == "__main__":
    main()

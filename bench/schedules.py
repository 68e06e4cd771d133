"""Schedule firing precision: a 1 s interval schedule in the real leader worker vs a bare APScheduler job.

Starts a broker, a stand-in agent (one unit, assigned to an experiment) and the leader worker
(`python -m leader.worker`: Huey consumer, ingest, the scheduler), then saves a schedule firing `job.start`
every second. For each firing: lateness = the operation's `created_at` - its due time (the claim in the store,
the checks, the submission). Beside it, in the same run, a bare APScheduler job on a 1 s interval in this
process records (when it ran - its due time).

    .venv/bin/python bench/schedules.py [--seconds 60]

Target: p99 lateness of the operations ≤ 250 ms.
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def line(label: str, values: list[float]) -> str:
    ms = [v * 1000 for v in values]
    return (
        f"{label:<34} n={len(ms):3d}  p50 {pct(ms, 50):7.1f} ms  p99 {pct(ms, 99):7.1f} ms  "
        f"max {max(ms):7.1f} ms"
    )


def parse(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=60.0, help="how long the schedule runs")
    args = parser.parse_args()

    from apscheduler.schedulers.background import BackgroundScheduler

    from cluster_schema.schedules import IntervalTrigger, JobStartAction
    from devcluster.broker import Broker
    from devcluster.procs import Proc, wait_for
    from leader.db import connect, migrate, transaction
    from leader.db import experiments as exp_db
    from leader.db import schedules as sched_db
    from leader.db import units as units_db
    from tests.leader.standin import StandIn

    tmp = Path(tempfile.mkdtemp(prefix="bench-schedules-"))
    broker = Broker(tmp / "broker").start()
    token = secrets.token_urlsafe(32)
    (tmp / "cluster_token").write_text(token + "\n")
    os.chmod(tmp / "cluster_token", 0o600)
    agent = StandIn("unit1", token).start()
    database = str(tmp / "leader.sqlite")
    config = tmp / "leader.toml"
    config.write_text(
        f'SECRET_KEY = "{secrets.token_hex(32)}"\nDATABASE = "{database}"\n'
        f'HUEY_DB = "{tmp / "huey.sqlite"}"\n'
        f'CLUSTER_TOKEN_FILE = "{tmp / "cluster_token"}"\nMQTT_URL = "{broker.url}"\n'
    )
    migrate.init_db(database)
    db = connect(database)
    with transaction(db):
        units_db.add(db, "unit1", "127.0.0.1", agent.port, None)
        exp_db.create(db, "bench")
        exp_db.assign(db, "bench", ["unit1"])
    env = {"LEADER_CONFIG": str(config), "LEADER_INSTANCE_PATH": str(tmp), "APP_ENV": "production"}
    worker = Proc([sys.executable, "-m", "leader.worker"], tmp / "worker.log", env, cwd=REPO)
    bare: list[float] = []
    scheduler = BackgroundScheduler(timezone="UTC")
    try:
        wait_for(lambda: "schedules:" in worker.output(), 30, 0.1, "the worker's scheduler")
        start = datetime.now(UTC) + timedelta(seconds=1)

        def bare_job() -> None:
            now = datetime.now(UTC)
            due = start + timedelta(seconds=int((now - start).total_seconds()))
            bare.append((now - due).total_seconds())

        scheduler.add_job(bare_job, "interval", seconds=1, start_date=start, coalesce=True, max_instances=1)
        scheduler.start()
        action = JobStartAction(experiment="bench", job="stirring")
        schedule = sched_db.create(db, "bench", IntervalTrigger(seconds=1), action, True, "bench")
        ends = time.monotonic() + args.seconds + 1.5
        wait_for(lambda: time.monotonic() > ends, args.seconds + 10, 0.5, "the run")
        sched_db.update(db, schedule.id, enabled=False)
        scheduler.shutdown()
        rows = db.execute(
            "SELECT f.due_at, o.created_at FROM schedule_firings f "
            "JOIN operations o ON o.id = f.operation_id WHERE f.schedule_id = ? ORDER BY f.due_at",
            (schedule.id,),
        ).fetchall()
        ours = [(parse(r[1]) - parse(r[0])).total_seconds() for r in rows]
        statuses = db.execute(
            "SELECT status, count(*) FROM operations GROUP BY status ORDER BY status"
        ).fetchall()
    finally:
        worker.stop()
        agent.stop()
        broker.stop()
        db.close()
    print(f"1 s interval for {args.seconds:g} s; lateness vs due time:")
    print(line("schedule → operation created", ours))
    print(line("bare APScheduler job (baseline)", bare))
    print("operations: " + ", ".join(f"{s} {n}" for s, n in statuses))
    p99 = pct([v * 1000 for v in ours], 99)
    print(f"target p99 ≤ 250 ms: {'met' if p99 <= 250 else 'MISSED'} ({p99:.1f} ms)")


if __name__ == "__main__":
    main()

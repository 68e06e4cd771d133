"""What a big experiment profile costs: 1,000 actions over 10 units, validated, planned and run (dry).

- baseline: plain `yaml.safe_load` of the same text (PyYAML's pure-Python safe loader)
- load: decode (libyaml safe loader + msgspec Structs) and validate, expressions parsed
- plan: the run's rows, and storing them with the operation (one transaction)
- run: a dry run of every row ticked by the profile driver (one thread, whatever the number of actions)

    .venv/bin/python bench/profiles.py      # BENCH_ROUNDS=20; target: load + plan <= 200 ms
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import yaml  # noqa: E402

from devcluster.store_fill import leader_app  # noqa: E402
from leader.db import connect, transaction  # noqa: E402
from leader.db import experiments as exp_db  # noqa: E402
from leader.db import operations as ops_db  # noqa: E402
from leader.db import profiles as store  # noqa: E402
from leader.db import units as units_db  # noqa: E402
from leader.profiles import plan as planner  # noqa: E402
from leader.profiles.driver import Driver  # noqa: E402
from leader.profiles.validate import load  # noqa: E402

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "20"))
UNITS = [f"unit{i:02d}" for i in range(1, 11)]
PER_UNIT = 100


def profile_text() -> str:
    """10 units x 100 actions: starts, updates with expressions, logs with interpolations, a repeat."""
    lines = ['version: "1.0"', "experiment_profile_name: bench", "inputs: {base: 300}", "pioreactors:"]
    for unit in UNITS:
        lines += [f"  {unit}:", f"    label: l{unit}", "    jobs:", "      stirring:", "        actions:"]
        lines.append("          - {type: start, t: 0s, options: {target_rpm: '${{ base }}'}}")
        for i in range(1, PER_UNIT - 2):
            t = f"{i * 0.001:.3f}s"
            if i % 3 == 0:
                lines.append(
                    f"          - {{type: log, t: {t}, options: {{message: 'rpm on ${{{{ unit() }}}} "
                    f"is ${{{{ base + {i} }}}}'}}}}"
                )
            else:
                lines.append(
                    f"          - {{type: update, t: {t}, if: '${{{{ base * 2 > {i} or not true }}}}', "
                    f"options: {{target_rpm: '${{{{ base + {i} }}}}'}}}}"
                )
        lines += [
            "          - type: repeat",
            "            t: 0.2s",
            "            every: 1h",
            "            max_time: 1h",
            "            while: ${{ hours_elapsed() < 10 }}",
            "            actions: [{type: update, t: 0s, options: {target_rpm: 1}}]",
            "          - {type: stop, t: 0.3s}",
        ]
    return "\n".join(lines) + "\n"


def timed(fn: Callable[[], object], n: int = ROUNDS) -> tuple[float, float]:
    """Median (wall, CPU) milliseconds of n calls. CPU time is this process's own: on a shared machine
    the wall time also counts the other processes' turns."""
    walls, cpus = [], []
    for _ in range(n):
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        walls.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
    return statistics.median(walls) * 1e3, statistics.median(cpus) * 1e3


def main() -> None:
    text = profile_text()
    result = load(text)
    assert result.ok, result.diagnostics[:3]
    assert result.profile is not None
    actions = sum(len(j.actions) for b in result.profile.pioreactors.values() for j in b.jobs.values())
    print(f"profile: {len(text):,} bytes, {actions} actions over {len(UNITS)} units")
    with tempfile.TemporaryDirectory() as tmp:
        app = leader_app(tmp)
        db = connect(app.config["DATABASE"])
        for unit in UNITS:
            units_db.add(db, unit, "127.0.0.1", 1, None)
        exp_db.create(db, "exp")
        exp_db.assign(db, "exp", UNITS)

        def plan_and_store(dry_run: bool = True) -> str:
            started = time.time()
            rows, _ = planner.plan(result.profile, started, UNITS, UNITS)  # type: ignore[arg-type]
            params = {
                "experiment": "exp",
                "profile": "bench",
                "dry_run": dry_run,
                "started": started,
                "yaml": text,
            }
            with transaction(db):
                op = ops_db.create(db, "profile.run", params, UNITS, "api", "bench")
                store.add_rows(db, op.id, rows)
            return op.id

        baseline = timed(lambda: yaml.safe_load(text))
        validate = timed(lambda: load(text))
        plan = timed(lambda: planner.plan(result.profile, time.time(), UNITS, UNITS))  # type: ignore[arg-type]
        planned = timed(plan_and_store)
        print(f"{'':34} {'wall':>8}    {'CPU':>8}")
        for label, (wall, cpu) in (
            ("yaml.safe_load (baseline)", baseline),
            ("decode + validate", validate),
            ("plan (rows in memory)", plan),
            ("plan + store with the operation", planned),
        ):
            print(f"{label:34} {wall:8.1f} ms {cpu:8.1f} ms")
        wall, cpu = validate[0] + planned[0], validate[1] + planned[1]
        verdict = "ok" if cpu <= 200 else "MISSED"
        print(f"{'validate + plan + store':34} {wall:8.1f} ms {cpu:8.1f} ms   (target <= 200 ms: {verdict})")

        # a dry run: every row due within 0.3 s, fired by one driver thread
        for op_id in store.open_runs(db):  # the timing rounds' runs: not part of this
            ops_db.finish(db, op_id, "cancelled")
        run_id = plan_and_store()
        driver = Driver(app)
        threads_before = threading.active_count()
        t0 = time.perf_counter()
        peak = threads_before
        with app.app_context():
            while ops_db.status(db, run_id)[0] in ("queued", "running"):
                driver.tick()
                peak = max(peak, threading.active_count())
        elapsed = time.perf_counter() - t0
        counts = store.counts(db, run_id)
        print(
            f"{'dry run of every row (driver ticks)':34} {elapsed * 1e3:8.1f} ms   rows {counts}, "
            f"threads {threads_before} -> peak {peak}"
        )
        db.close()


if __name__ == "__main__":
    main()

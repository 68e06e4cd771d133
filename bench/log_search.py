"""Text search over logs (GET /api/logs?q=): the FTS5 index vs a `LIKE '%word%'` scan, same store, same run.

Fills a store with realistic log lines (a vocabulary of job messages, a few rare words), lets the background
filler (leader.log_index) index them and times it, then times a newest-first page of 100 matches for common,
rare and absent words - the index through the real code path (leader.db.logs.page), the baseline as the
plain scan a store without the index would need.

    .venv/bin/python bench/log_search.py            # 100,000 logs (well under a minute)
    .venv/bin/python bench/log_search.py --full     # 1,000,000 logs (target: search p99 <= 50 ms)
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from devcluster.store_fill import JOBS, add_logs, leader_app  # noqa: E402
from leader import log_index  # noqa: E402
from leader.db import connect, logs  # noqa: E402

TEMPLATES = [
    "Updated target_rpm to {n}",
    "Started {job} with PID {n}",
    "OD reading from channel 2: {f}",
    "Growth rate estimate {f} per hour",
    "Heater duty cycle set to {n} percent",
    "Dosing event: added {f} mL of media",
    "Removed {f} mL of waste",
    "Temperature stabilised at {f} C",
    "Connection to broker restored after {n} s",
    "Calibration curve applied for channel {n}",
]
RARE = ["overflow", "stalled", "brownout", "nozzle", "quarantine"]  # ~1 in 100,000 lines each


def message(i: int, rng: random.Random) -> str:
    text = rng.choice(TEMPLATES).format(job=JOBS[i % 5], n=rng.randrange(1000), f=f"{rng.random():.3f}")
    if rng.random() < len(RARE) / 100_000:
        text += f" - {rng.choice(RARE)} detected"
    return text


def pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(p / 100 * len(xs)))]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--full", action="store_true", help="1,000,000 logs (default 100,000)")
    ap.add_argument("--queries", type=int, default=60, help="searches per kind of word")
    args = ap.parse_args()
    n = 1_000_000 if args.full else 100_000
    with tempfile.TemporaryDirectory() as tmp:
        path = str(Path(tmp) / "leader.sqlite")
        leader_app(tmp)
        started = time.perf_counter()
        add_logs(path, n, message, seed=7, synchronous="NORMAL")
        print(
            f"stored {n:,} logs in {time.perf_counter() - started:.1f} s (trigger queues each for indexing)"
        )
        started = time.perf_counter()
        indexed = log_index.catch_up(path)
        took = time.perf_counter() - started
        print(f"indexed {indexed:,} logs in {took:.1f} s ({indexed / took:,.0f}/s, batches of 500)")
        db = connect(path)
        size = db.execute("SELECT sum(pgsize) FROM dbstat WHERE name LIKE 'log_search%'").fetchone()[0]
        total = db.execute("SELECT sum(pgsize) FROM dbstat").fetchone()[0]
        print(f"index size {size / 2**20:.1f} MiB of a {total / 2**20:.1f} MiB store")
        rng = random.Random(3)
        kinds = {
            "common": ["heater", "media", "broker", "calibration", "temperature"],
            "rare": RARE,
            "absent": ["zeppelin", "quasar", "marmalade"],
            "two words": ["heater duty", "waste removed", "channel curve"],
        }
        head = ("words", "fts p50", "fts p99", "LIKE p50", "LIKE p99")
        print(f"\n{head[0]:<10}" + "".join(f" {h:>9}" for h in head[1:]) + "   (ms, page of 100)")
        for kind, words in kinds.items():
            fts, like = [], []
            for _ in range(args.queries):
                word = rng.choice(words)
                t = time.perf_counter()
                page = logs.page(db, q=word, limit=100)
                fts.append((time.perf_counter() - t) * 1000)
                t = time.perf_counter()
                where = " AND ".join("message LIKE ?" for _ in word.split())
                rows = db.execute(
                    f"SELECT ts, message FROM logs WHERE {where} ORDER BY ts DESC LIMIT 100",  # noqa: S608
                    [f"%{w}%" for w in word.split()],
                ).fetchall()
                like.append((time.perf_counter() - t) * 1000)
                assert len(page.logs) <= len(rows) or kind == "two words"
            figures = (pct(fts, 50), pct(fts, 99), pct(like, 50), pct(like, 99))
            print(f"{kind:<10}" + "".join(f" {x:9.2f}" for x in figures))
        db.close()


if __name__ == "__main__":
    main()

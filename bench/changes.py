"""What live updates cost: the ingest's store step with and without the change log behind
GET /api/experiments/<exp>/events (triggers append one `changes` row per reading, log, state, setting),
and one poll of an experiment's stream on a change log of EVENTS_KEEP rows.

Same messages (readings of two series and logs from 10 units), same batches of 1,000, a fresh store per
trial; the baseline drops the change-log triggers. Median of BENCH_CHANGES_TRIALS.

    .venv/bin/python bench/changes.py    # BENCH_CHANGES_N=60000 messages, BENCH_CHANGES_TRIALS=5
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from leader.db import changes, connect  # noqa: E402
from leader.db.migrate import init_db  # noqa: E402
from leader.ingest import descriptors  # noqa: E402
from leader.ingest.writer import BatchWriter, Message  # noqa: E402

N = int(os.environ.get("BENCH_CHANGES_N", "60000"))
TRIALS = int(os.environ.get("BENCH_CHANGES_TRIALS", "5"))
T0 = 1_790_000_000.0


def messages(n: int) -> list[Message]:
    out = []
    for i in range(n):
        unit, ts = f"u{i % 10}", T0 + i * 0.01
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ts)) + f".{int(ts % 1 * 1000):03d}Z"
        if i % 3 == 0:
            topic, body = f"pioreactor/{unit}/e/od_reading/od2", f'{{"od":{i},"timestamp":"{stamp}"}}'
        elif i % 3 == 1:
            topic = f"pioreactor/{unit}/e/growth_rate_calculating/growth_rate"
            body = f'{{"growth_rate":{i},"timestamp":"{stamp}"}}'
        else:
            topic = f"pioreactor/{unit}/e/logs/app/info"
            body = f'{{"message":"m{i}","level":"INFO","timestamp":"{stamp}"}}'
        out.append(Message(topic, body.encode(), ts))
    return out


def store_rate(msgs: list[Message], with_change_log: bool) -> float:
    path = str(Path(tempfile.mkdtemp()) / "leader.sqlite")
    init_db(path)
    db = connect(path)
    if not with_change_log:
        for (name,) in db.execute(
            "SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'changes_%'"
        ):
            db.execute(f"DROP TRIGGER {name}")
    writer = BatchWriter(lambda: db, descriptors.router(str(REPO / "contrib")))
    t = time.perf_counter()
    for i in range(0, len(msgs), 1000):
        writer.write(db, msgs[i : i + 1000])
    rate = len(msgs) / (time.perf_counter() - t)
    db.close()
    return rate


def poll_ms(keep: int = changes.KEEP) -> float:
    """One stream poll (500 events of one experiment among 10) on a change log of `keep` rows."""
    path = str(Path(tempfile.mkdtemp()) / "leader.sqlite")
    init_db(path)
    db = connect(path)
    db.execute(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?) "
        "INSERT INTO changes (experiment, kind, unit, name, value, t) "
        "SELECT 'e' || (i % 10), 'reading', 'u1', 'od', i, i FROM n",
        (keep,),
    )
    after = keep // 2
    times = []
    for _ in range(50):
        t = time.perf_counter()
        changes.events(db, "e3", after)
        times.append((time.perf_counter() - t) * 1000)
    db.close()
    return statistics.median(times)


def main() -> None:
    msgs = messages(N)
    with_log, without = [], []
    for _ in range(TRIALS):  # interleaved, so a busy machine hurts both alike
        with_log.append(store_rate(msgs, True))
        without.append(store_rate(msgs, False))
    a, b = statistics.median(with_log), statistics.median(without)
    print(f"ingest store step, {N} messages in batches of 1000 (median of {TRIALS}):")
    print(f"  with the change log   {a:9,.0f} msg/s")
    print(f"  baseline (no log)     {b:9,.0f} msg/s   cost {100 * (1 - a / b):.0f}%")
    print(f"one stream poll (500 events) on {changes.KEEP:,} kept changes: {poll_ms():.2f} ms")


if __name__ == "__main__":
    main()

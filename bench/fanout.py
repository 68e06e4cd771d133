"""Fan-out benchmark: one unit vs N units through the leader's fan-out, beside narrower caps in the same run.

Starts N agent stand-ins (real HTTP/1.1 servers speaking the /unit_api task contract, each request answered
after 100 ms, every unit on a port of its own) in a child process, then runs `job.start` operations through
the leader's real engine (store, steps, lines, agent client, fan-out) and prints the wall time of each.

    .venv/bin/python bench/fanout.py [--units 100] [--delay 0.1] [--workers N] [--threaded-standins]

Target: 100 and 1,000 units take at most 1.5x the time of one unit (issue #18).

The model since 2026-12-04 (second sitting): every call of a fan-out is a coroutine on one asyncio loop per
leader process (leader.agent_loop) over a small HTTP/1.1 client on asyncio protocols (agent_connections);
before, a thread per call on `http.client` (1,024 threads at 1,000 units): 1.22x at 100 units, 6.1x at
1,000. The stand-ins changed too: they run on one asyncio loop (tests/leader/standin_host.py). The threaded
ones (`--threaded-standins`, a ThreadingHTTPServer each) cost 3.2 ms of CPU per unit and operation, 30x
what they now cost and several times the leader's, and under that load (load average 200) some of their
answers took over the agents' 10 s read timeout: the `partial` operations seen before were those timeouts
(the connection resets logged by the stand-ins came after, from the leader closing timed-out connections).

Same sitting, asyncio stand-ins for both, the code before and after (`--units 1000 --workers 1024`, shared
2-core box at load 5-8): leader CPU per unit and operation 0.49 -> 0.13 ms, 1,000 units 0.81 s (3.89x)
-> 0.45 s (2.01x). Then: steps stored per batch in two statements (executemany retook the GIL from the
loop's thread per row), the worker's gc.freeze() (full collections walked the start-up heap, ~60 ms per
operation), the token stat'ed at most every 50 ms: leader CPU 0.10 ms per unit and operation, of which
the loop thread's 80 µs is mostly the loopback `send` (the kernel does the stand-in's TCP receive in it).

Final, same sitting (15:25-15:27 UTC, 1-minute load 3-6 and falling, the box otherwise idle), before ->
after: 1 unit 0.21 -> 0.20-0.21 s; 100 units 1.31x -> 1.04x (leader CPU 0.59 -> 0.13 ms); 1,000 units
0.87 s, 4.19x -> 0.27-0.30 s, 1.29-1.45x (leader CPU 0.50 -> 0.10-0.11 ms; stand-ins 0.09 ms); a run
minutes later, while other work came and went (load 2-5), 0.51 s, 2.27x. At load 8-11 1,000 units take
0.45-0.84 s, 2-4x: a 1,000-unit operation is ~200 ms of CPU (the agent loop's thread ~95 ms, four fifths
of it Python; the engine's thread ~30; the stand-ins ~90), and on two shared cores its wall time grows
with whatever else runs.

Third sitting, 2026-12-04 (18:26-19:03 UTC; other work on the box, 1-minute load 0.4-4.6): read deadlines
swept once per loop turn instead of a timer per request (asyncio's timer heap was a fifth of the loop's
Python time), request headers with the token rendered once per turn, no semaphore when the calls fit the
cap, tuples for answers; the token is now stat'ed every turn (exact after a rotation) instead of every 50
ms. Leader CPU, runs of base and new interleaved (load 2-4): loop thread per unit and operation 181, 158,
139 -> 134, 129, 113 us; per unit and timed start 0.24, 0.22, 0.17 -> 0.17, 0.17, 0.15 ms. At 1,000
units: before (load 1.1-2.6) 1.50x, 1.52x, 1.65x, 1.67x, 2.91x (leader CPU 0.14-0.22 ms); after (load
3.5-4.6) 1.55x, 2.11x, 2.16x (0.14-0.17 ms); interleaved (load 2-4) base 1.52x, 1.72x, 1.76x, new 1.94x,
2.50x, 3.47x. At load 0.4-0.7 (five 1,000-unit starts each, no bench figure for one unit; one unit takes
0.20-0.21 s): base 0.30-0.43 s, medians 0.32-0.39 s; new 0.28-0.32 s, medians 0.29-0.30 s (~1.45x). The
wall time at 1,000 units follows the box's load more than the leader's CPU: the stand-ins' CPU (0.14-0.21
ms per unit and operation) is as large as the leader's, on the same two cores. Tried and dropped: a
BufferedProtocol (recv_into a reused buffer instead of asyncio's 256 KiB recv) cost more loop CPU, not
less (115 vs 107 us, three pairs); header parsing by regular expressions was no faster than the split.

Fourth sitting, 2026-12-04 (21:06-21:12 UTC, a freshly booted box, nothing else running, 1-minute load
0.3-0.6), the code of the third sitting: 1,000 units 0.26-0.27 s against one unit's 0.20-0.21 s, 1.24x,
1.27x, 1.28x, 1.29x, 1.30x, 1.31x in six runs (`make bench` among them), leader CPU 0.08-0.09 ms and the
stand-ins' 0.08 ms per unit and operation; 100 units 1.04x. The third sitting's 0.14-0.22 ms of leader CPU
for the same code were the box's other work (load 1-4) slowing every instruction, not the fan-out's.

"leader CPU" is this process's CPU per unit and operation; "stand-ins' CPU" the child's, for the timed
starts (a stop follows each). The baselines beside ours are the same fan-out at narrower caps: 128 (the
default before) and 6 (the first design). Timings on a shared box swing with its load: note `uptime`.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

TOKEN = "bench-cluster-token-0123456789abcdefghijklmnop"
ROUNDS = 5


def median(runs: Iterable[tuple[float, str]]) -> tuple[float, str]:
    done = sorted(runs)
    statuses = {s for _, s in done}
    return done[len(done) // 2][0], "/".join(sorted(statuses))


CPU: list[float] = []  # leader CPU (this process: the stand-ins run in a child) of each timed operation
FAILED: Counter[str] = Counter()  # details of failed steps, if any operation was not a success


def serve(units: int, delay: float, threads: bool) -> None:
    """Child process: start the stand-ins, print their ports as JSON, live until stdin closes."""
    names = [f"u{i:03d}" for i in range(units)]
    if threads:  # the stand-ins before 2026-12-04's second sitting: a ThreadingHTTPServer each
        from tests.leader.standin import StandIn

        agents = [StandIn(name, TOKEN, delay=delay, poll=0.5).start() for name in names]
        print(json.dumps([a.port for a in agents]), flush=True)
        sys.stdin.read()  # the servers' threads are daemons: they end with this process
        return
    from tests.leader.standin import Behaviour
    from tests.leader.standin_host import serve as serve_all

    loop = asyncio.new_event_loop()
    ports, _ = loop.run_until_complete(serve_all([Behaviour(name, TOKEN, delay=delay) for name in names]))
    print(json.dumps(ports), flush=True)
    threading.Thread(
        target=lambda: (sys.stdin.read(), loop.call_soon_threadsafe(loop.stop)), daemon=True
    ).start()
    loop.run_forever()


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process so far (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_operation(app, targets: list[str]) -> tuple[float, str]:  # type: ignore[no-untyped-def]
    from leader.db import get_db
    from leader.db import operations as ops_db
    from leader.operations import engine

    with app.app_context():
        op = ops_db.create(get_db(), "job.start", {"experiment": "bench", "job": "stirring"}, targets, "api")
        t0, c0 = time.perf_counter(), time.process_time()
        engine.run(op.id)
        elapsed = time.perf_counter() - t0
        CPU.append((time.process_time() - c0) / len(targets))
        # stop them again so the next run starts them anew (not "already running")
        stop = ops_db.create(get_db(), "job.stop", {"experiment": "bench", "job": "stirring"}, targets, "api")
        engine.run(stop.id)
        done = ops_db.get(get_db(), op.id)
        FAILED.update(step.detail or "" for step in done.steps if step.status != "ok")
        return elapsed, done.status


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--units", type=int, default=100)
    parser.add_argument("--delay", type=float, default=0.1, help="seconds each stand-in takes per request")
    parser.add_argument("--workers", type=int, help="FANOUT_WORKERS (default: the leader's default)")
    parser.add_argument("--threaded-standins", action="store_true", help="a ThreadingHTTPServer per stand-in")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.units, args.delay, args.threaded_standins)
        return

    from leader import cluster_token, create_app
    from leader.db import get_db
    from leader.db import units as units_db

    child = subprocess.Popen(
        [sys.executable, __file__, "--serve", "--units", str(args.units), "--delay", str(args.delay)]
        + ["--threaded-standins"] * args.threaded_standins,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    n = args.units
    try:
        assert child.stdout is not None
        ports = json.loads(child.stdout.readline())
        with tempfile.TemporaryDirectory() as tmp:
            cfg = {
                "SECRET_KEY": "bench-" + "k" * 40,
                "INSTANCE_PATH": tmp,
                "DATABASE": f"{tmp}/leader.sqlite",
                "HUEY_DB": f"{tmp}/huey.sqlite",
                "CLUSTER_TOKEN_FILE": f"{tmp}/token",
                "OPERATION_DEADLINE": 120.0,
            }
            cluster_token.write(cfg["CLUSTER_TOKEN_FILE"], TOKEN)
            ours = create_app(cfg if args.workers is None else {**cfg, "FANOUT_WORKERS": args.workers})
            before = create_app({**cfg, "FANOUT_WORKERS": 128})  # the default before the 1,000-unit work
            old = create_app({**cfg, "FANOUT_WORKERS": 6})
            names = [f"u{i:03d}" for i in range(args.units)]
            with ours.app_context():
                for name, port in zip(names, ports, strict=True):
                    units_db.add(get_db(), name, "127.0.0.1", port, None)
            # warm-up: imports, and one kept-alive connection per agent (as a running leader has)
            run_operation(ours, names)
            run_operation(before, names)
            gc.freeze()  # as the leader worker does once started (leader.worker)
            one, s1 = median(run_operation(ours, names[:1]) for _ in range(ROUNDS))
            CPU.clear()
            c0 = cpu_seconds(child.pid)
            many, s2 = median(run_operation(ours, names) for _ in range(ROUNDS))
            # the stand-ins answered a start and a stop per round: half of it is the timed start's
            standin_cpu = (cpu_seconds(child.pid) - c0) / ROUNDS / 2 / n
            cpu_per_unit = sorted(CPU)[len(CPU) // 2]
            pool128, s4 = median(run_operation(before, names) for _ in range(ROUNDS))
            six, s3 = run_operation(old, names) if n <= 100 else (float("nan"), "skipped above 100 units")
    finally:
        if child.stdin:
            child.stdin.close()
        child.wait(10)
    print(
        f"stand-ins: {n}, each request answered after {args.delay * 1000:.0f} ms; a start = run + task result"
    )
    print(f"median of {ROUNDS} runs through the leader's engine (store, steps, lines), warm connections")
    print(f"  1 unit, our fan-out:        {one:6.2f} s  ({s1})")
    print(
        f"  {n} units, our fan-out:      {many:6.2f} s  ({s2})  = {many / one:.2f}x one unit (target <= 1.5x)"
    )
    print(f"  leader CPU per unit and operation ({n} units): {cpu_per_unit * 1000:.2f} ms")
    print(f"  stand-ins' CPU per unit and operation:        {standin_cpu * 1000:.2f} ms")
    print(
        f"  {n} units, 128 at once (the default before): {pool128:6.2f} s  ({s4})"
        f"  = {pool128 / one:.2f}x one unit"
    )
    label = f"  {n} units, 6 at once (the first design):   "
    if six == six:  # not NaN: measured
        print(f"{label} {six:6.2f} s  ({s3})  = {six / one:.2f}x one unit")
    else:
        print(f"{label} not run ({s3}: it would take minutes)")
    print(f"  load average at the end: {os.getloadavg()[0]:.1f} (2 CPUs shared with the stand-ins)")
    for detail, count in FAILED.most_common(5):
        print(f"  failed steps: {count} x {detail}")


if __name__ == "__main__":
    main()

"""`/api/units` for 100 units from the store (versions, health, presence) beside a per-read fan-out, and the
unit agent's idle CPU with status heartbeats on.

    .venv/bin/python bench/units.py [--units 100] [--reads 500] [--seconds 30]

Part 1: a leader app on a fresh store with N units, each with an ingested heartbeat and presence; GET
/api/units through the WSGI stack (auth included), timed per request. Beside it, what answering the same
read by asking every unit would cost: one fan-out (leader.fanout, the one used by operations) of
`GET /unit_api/versions` to N in-process HTTP stand-in agents that answer at once (a real agent is slower).
Target: p99 <= 10 ms from the store. Measured 2026-12-04 (shared 2-CPU box, load 15): p50 1.8 ms, p99 8.2 ms
once get_db reuses connections (p50 19.6 ms, p99 56.7 ms when each request opened one and parsed the schema).

Part 2: an agent (gunicorn web + Huey worker, as deployed) on a pio-sim unit, no job running, real broker:
CPU of all its processes over `--seconds`, with heartbeats off, at the default 30 s, and at 1 s.
Target: < 1 % of a core with heartbeats on.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from cluster_schema import topics  # noqa: E402
from cluster_schema.codec import encode  # noqa: E402
from cluster_schema.fleet import AgentStatus, UnitVersions  # noqa: E402
from devcluster.broker import Broker  # noqa: E402
from devcluster.procs import group_cpu  # noqa: E402
from leader.agent_client import AgentClient, UnitAddress  # noqa: E402
from leader.db import connect  # noqa: E402
from leader.fanout import FanOut, Outcome  # noqa: E402
from leader.ingest import descriptors  # noqa: E402
from leader.ingest.writer import BatchWriter, Message  # noqa: E402
from tests.agent.harness import spied_sim_agent  # noqa: E402
from tests.leader.conftest import api_client, make_app  # noqa: E402
from tests.leader.standin import StandIn  # noqa: E402


def pct(ms: list[float]) -> str:
    q = statistics.quantiles(ms, n=100, method="inclusive")
    return f"p50 {statistics.median(ms):6.2f} ms   p99 {q[98]:6.2f} ms   max {max(ms):6.2f} ms"


def store_reads(tmp: Path, units: int, reads: int) -> None:
    app = make_app(tmp / "leader")
    client = api_client(app)
    names = [f"unit{i:03d}" for i in range(units)]
    for name in names:
        assert client.post("/api/units", json={"name": name, "address": "127.0.0.1"}).status_code == 201
    now = time.time()
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now))
    messages = []
    for name in names:
        status = AgentStatus(
            unit=name,
            versions=UnitVersions(agent="1.0", pio="26.11.1", python="3.12", schema=2),
            utc=stamp,
            disk_free_bytes=1 << 30,
            disk_total_bytes=1 << 34,
            memory_free_bytes=1 << 28,
            memory_total_bytes=1 << 30,
        )
        messages.append(Message(topics.status_topic(name), encode(status), now))
        messages.append(Message(topics.presence_topic(name), b"online", now))
    db = connect(app.config["DATABASE"])
    BatchWriter(lambda: db, descriptors.router(str(REPO / "contrib"))).write(db, messages)
    db.close()
    for _ in range(20):  # warm up
        client.get("/api/units")
    ms = []
    for _ in range(reads):
        t0 = time.perf_counter()
        r = client.get("/api/units")
        ms.append((time.perf_counter() - t0) * 1000)
        assert r.status_code == 200
    body = r.get_json()
    assert len(body) == units and all(u["versions"] for u in body)
    print(f"/api/units, {units} units from the store ({len(r.data)} bytes): {pct(ms)}")

    stand_ins = [StandIn(f"s{i}", "tok").start() for i in range(units)]
    token_file = tmp / "token"
    token_file.write_text("tok")
    agent_client = AgentClient(str(token_file), 1.0, 5.0)
    targets = [UnitAddress(s.unit, "127.0.0.1", s.port) for s in stand_ins]

    async def call(unit: UnitAddress, deadline: float) -> Outcome:
        reply = await agent_client.request(unit, "GET", "/unit_api/versions", deadline=deadline)
        return Outcome(unit.name, True, "", reply.json())

    fan: FanOut[UnitAddress] = FanOut(call, workers=128)
    try:
        fan.run(targets, time.monotonic() + 10)  # warm up (connections)
        ms = []
        for _ in range(max(20, reads // 10)):
            t0 = time.perf_counter()
            outcomes = fan.run(targets, time.monotonic() + 10)
            ms.append((time.perf_counter() - t0) * 1000)
            assert all(o.ok for o in outcomes.values())
        print(f"per-read fan-out of GET /unit_api/versions to {units} stand-in agents: {pct(ms)}")
    finally:
        for s in stand_ins:
            s.stop()


def agent_cpu(tmp: Path, seconds: float) -> None:
    broker = Broker(tmp / "broker").start()
    try:
        for label, interval in (("heartbeats off", 0.0), ("heartbeat every 30 s", 30.0), ("every 1 s", 1.0)):
            with spied_sim_agent(
                tmp / f"agent{int(interval)}", broker, "cpu", heartbeat_interval=interval
            ) as a:
                assert a.web is not None and a.worker is not None
                pgids = {a.web.pid, a.worker.pid}
                time.sleep(3)  # let start-up settle (measuring idle CPU: waiting is the point)
                c0, t0 = group_cpu(pgids), time.monotonic()
                time.sleep(seconds)
                cpu, wall = group_cpu(pgids) - c0, time.monotonic() - t0
                share = 100 * cpu / wall
                print(f"agent idle, {label:>20}: {cpu:.2f} CPU s in {wall:.0f} s = {share:.2f}% of a core")
    finally:
        broker.stop()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--units", type=int, default=100)
    parser.add_argument("--reads", type=int, default=500)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--skip-agent", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        store_reads(Path(tmp), args.units, args.reads)
        if not args.skip_agent:
            agent_cpu(Path(tmp), args.seconds)


if __name__ == "__main__":
    main()

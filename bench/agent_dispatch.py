"""How fast the unit agent turns `POST /unit_api/jobs/run/...` into a started `pio` process, and how much
memory its two processes (gunicorn web, Huey worker) take - beside a bare-subprocess baseline.

    .venv/bin/python bench/agent_dispatch.py [--runs 100]

The agent is started exactly as deployed (the commands of the systemd units of
deploy/ansible/roles/unit_agent/templates/) against a real broker. Its `pio` is a tiny script whose first
act is to write the time; the same script started with `subprocess.Popen` from this process is the baseline.
Targets: p50 <= 100 ms, p99 <= 250 ms, web + worker
resident memory <= 60 MB PSS after the job starts with heartbeats (every second here) and metrics on (the
Prometheus endpoint scraped); PSS from /proc/<pid>/smaps_rollup. Measured 2026-12-04: 58.4-59.1 MB PSS
(gunicorn master 12.0, web worker 26.3, Huey worker 20.1), RSS 95 MB.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from devcluster.broker import Broker  # noqa: E402
from devcluster.procs import wait_for  # noqa: E402
from tests.agent.harness import AgentProc  # noqa: E402


def fake_pio(path: Path, marker: Path) -> Path:
    # `version` answers like pio; anything else notes its start time (ns) and exits 0
    path.write_text(
        f'#!/bin/sh\nif [ "$1" = version ]; then echo 26.11.1; exit 0; fi\ndate +%s%N >> {marker}\n'
    )
    path.chmod(0o755)
    return path


def marks(marker: Path) -> list[int]:
    return [int(x) for x in marker.read_text().split()] if marker.exists() else []


def percentiles(ms: list[float]) -> str:
    q = statistics.quantiles(ms, n=100, method="inclusive")
    return f"p50 {statistics.median(ms):6.1f} ms   p99 {q[98]:6.1f} ms   max {max(ms):6.1f} ms"


def baseline(pio: Path, marker: Path, runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        n = len(marks(marker))
        t0 = time.time_ns()
        proc = subprocess.Popen(
            [str(pio), "run", "stirring"], stdin=subprocess.DEVNULL, start_new_session=True
        )
        started = wait_for(lambda n=n: marks(marker)[n:], 5, 0.001, "baseline start")[0]
        out.append((started - t0) / 1e6)
        proc.wait()
    return out


def through_agent(agent: AgentProc, marker: Path, runs: int) -> list[float]:
    out = []
    for i in range(runs):
        n = len(marks(marker))
        t0 = time.time_ns()
        status, answer = agent.request(
            "POST", "/unit_api/jobs/run/job_name/stirring", {"experiment": f"b{i}"}
        )
        assert status == 202, answer
        started = wait_for(lambda n=n: marks(marker)[n:], 5, 0.001, "agent start")[0]
        out.append((started - t0) / 1e6)
        wait_for(lambda a=answer: agent.get(a["result_url_path"])[0] == 200, 10, 0.005, "task result")
    return out


def memory(pids: list[int]) -> tuple[float, float]:
    """(RSS, PSS) in MB summed over the processes (PSS shares library pages fairly between them)."""
    rss = pss = 0
    for pid in pids:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Rss:"):
                rss += int(line.split()[1])
            elif line.startswith("Pss:"):
                pss += int(line.split()[1])
    return rss / 1024, pss / 1024


def scrape(agent: AgentProc) -> None:
    req = urllib.request.Request(agent.url + "/unit_api/metrics")  # noqa: S310 (loopback)
    req.add_header("Authorization", f"Bearer {agent.token}")
    with urllib.request.urlopen(req, timeout=30) as resp:  # noqa: S310 (loopback)
        assert resp.status == 200 and b"# TYPE" in resp.read()


def children(pid: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()
    return [int(p) for p in out]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=100)
    runs = parser.parse_args().runs
    with tempfile.TemporaryDirectory(prefix="agent-bench-") as tmp:
        work = Path(tmp)
        broker = Broker(work / "broker").start()
        try:
            marker = work / "starts.txt"
            pio = fake_pio(work / "pio", marker)
            (work / "unit" / "dotpio").mkdir(parents=True)
            agent = AgentProc(work, "benchunit", broker, pio, work / "unit", heartbeat_interval=1.0).start()
            try:
                base = baseline(pio, marker, runs)
                agent_ms = through_agent(agent, marker, runs)
                for _ in range(20):
                    agent.get("/unit_api/jobs/running")
                    scrape(agent)  # metrics on: scraped as Prometheus does
                t0 = time.perf_counter()
                for _ in range(50):
                    agent.get("/unit_api/jobs/running")
                running_ms = (time.perf_counter() - t0) / 50 * 1000
                assert agent.web is not None and agent.worker is not None
                pids = [agent.web.pid, *children(agent.web.pid), agent.worker.pid]
                rss, pss = memory(pids)
                each = {
                    name: memory([pid])[1]
                    for name, pid in zip(("master", "web worker", "huey"), pids, strict=False)
                }
            finally:
                agent.stop()
        finally:
            broker.stop()
    print(f"POST run -> pio process started, {runs} runs (sequential)")
    print(f"  bare subprocess.Popen baseline: {percentiles(base)}")
    print(f"  through the agent:              {percentiles(agent_ms)}   (target p50 <= 100, p99 <= 250)")
    print(f"GET /unit_api/jobs/running: {running_ms:.1f} ms per request (from memory, no pio process)")
    print(f"agent memory, web (gunicorn master + worker) + Huey worker, {len(pids)} processes:")
    print(f"  RSS {rss:.1f} MB   PSS {pss:.1f} MB   (target <= 60 MB; PSS counts shared pages once)")
    print("  PSS each: " + ", ".join(f"{name} {mb:.1f} MB" for name, mb in each.items()))


if __name__ == "__main__":
    main()

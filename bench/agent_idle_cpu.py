"""The unit agent's idle CPU, without and with a Prometheus-like scraper on /unit_api/metrics.

    .venv/bin/python bench/agent_idle_cpu.py [--seconds 20] [--every 5]

An agent (gunicorn web + Huey worker, as deployed) on a pio-sim unit with no job running, against a real
broker. CPU is the sum of utime + stime of every process of the agent (gunicorn master and worker, the
Huey consumer) over each phase, from /proc. A Raspberry Pi is ~5-10x slower per core than this machine:
scale the percentages accordingly. Target: scraping every 15 s costs < 1% of one Pi core.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from devcluster.broker import Broker  # noqa: E402
from devcluster.procs import group_cpu  # noqa: E402
from tests.agent.harness import spied_sim_agent  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--every", type=float, default=5.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        broker = Broker(Path(tmp) / "broker").start()
        try:
            with spied_sim_agent(Path(tmp) / "agent", broker, "idle") as agent:
                assert agent.web is not None and agent.worker is not None
                pgids = {agent.web.pid, agent.worker.pid}  # each Proc leads its own group
                time.sleep(3)  # let start-up settle
                auth = {"Authorization": f"Bearer {agent.token}"}
                results = {}
                for phase, scrape in (("idle, no scrapes", False), (f"scraped every {args.every:g} s", True)):
                    c0, t0 = group_cpu(pgids), time.monotonic()
                    scrapes, size = 0, 0
                    while time.monotonic() - t0 < args.seconds:
                        if scrape:
                            r = requests.get(agent.url + "/unit_api/metrics", headers=auth, timeout=5)
                            r.raise_for_status()
                            scrapes, size = scrapes + 1, len(r.content)
                        time.sleep(min(args.every, args.seconds - (time.monotonic() - t0)) if scrape else 1.0)
                    cpu, wall = group_cpu(pgids) - c0, time.monotonic() - t0
                    results[phase] = (cpu, wall, scrapes, size)
                for phase, (cpu, wall, scrapes, size) in results.items():
                    extra = f", {scrapes} scrapes of {size} bytes" if scrapes else ""
                    share = f"{100 * cpu / wall:.2f}% of a core"
                    print(f"{phase:>24}: {cpu:.2f} CPU s in {wall:.0f} s = {share}{extra}")
                (c_idle, w_idle, _, _), (c_s, w_s, n, _) = results.values()
                if n:
                    per = (c_s - c_idle * w_s / w_idle) / n
                    print(f"{'cost of one scrape':>24}: {1000 * per:.1f} ms CPU")
        finally:
            broker.stop()


if __name__ == "__main__":
    main()

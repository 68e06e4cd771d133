"""`GET /unit_api/metrics`: the agent in Prometheus text format (names start with `pioreactor_agent_`).

Everything is read at scrape time from what the web process already has (job registry, Huey's queue, the
agent's store where the worker records job starts and its pid), so the answer costs nothing between
scrapes and needs no second process's cooperation. Credentials: the cluster token, or the read-only token
in `metrics_token_file`; none with `metrics_public = true` (see config.py and auth.py).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import TYPE_CHECKING

from flask import Blueprint, Response

from . import agent

if TYPE_CHECKING:
    from prometheus_client.core import Metric

bp = Blueprint("metrics", __name__, url_prefix="/unit_api")

START_BUCKETS = (0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 30.0, 60.0)
_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096
_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _proc(pid: int) -> tuple[float, float] | None:
    """(resident bytes, CPU seconds) of a process, from /proc (Linux); None when unknown."""
    try:
        with open(f"/proc/{pid}/statm") as f:
            rss = int(f.read().split()[1]) * _PAGE
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        cpu = (int(fields[11]) + int(fields[12])) / _TICKS  # utime + stime
    except (OSError, ValueError, IndexError):
        return None
    return float(rss), cpu


def _is_worker(pid: int) -> bool:
    """The pid the worker recorded at its start is still the worker (not a stopped one's recycled pid)."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return b"unit_agent.worker" in f.read()
    except OSError:
        return False


class AgentCollector:
    def describe(self) -> list[Metric]:
        return []

    def collect(self) -> Iterator[Metric]:
        from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily

        a = agent()
        unit = a.settings.unit
        running = GaugeMetricFamily(
            "pioreactor_agent_jobs_running", "Jobs running on this unit, by name", labels=["unit", "job_name"]
        )
        counts: dict[str, int] = {}
        for row in a.registry.running():
            counts[row.job_name] = counts.get(row.job_name, 0) + 1
        for job, n in sorted(counts.items()):
            running.add_metric([unit, job], n)
        yield running

        started = CounterMetricFamily(
            "pioreactor_agent_job_starts",
            "Jobs this agent started, by name and outcome (ready, finished, failed)",
            labels=["unit", "job_name", "outcome"],
        )
        for job, outcome, n in a.store.query(
            "SELECT job_name, outcome, count(*) FROM job_starts GROUP BY 1, 2 ORDER BY 1, 2"
        ):
            started.add_metric([unit, job, outcome], n)
        yield started

        sums = ", ".join(f"sum(seconds <= {le})" for le in START_BUCKETS)
        hist = a.store.query(f"SELECT count(*), coalesce(sum(seconds), 0), {sums} FROM job_starts")[0]  # noqa: S608
        buckets = [(str(le), hist[2 + i] or 0) for i, le in enumerate(START_BUCKETS)] + [("+Inf", hist[0])]
        latency = HistogramMetricFamily(
            "pioreactor_agent_pio_start_seconds",
            "Seconds from `pio run` to the job's ready state (or its failure)",
            labels=["unit"],
        )
        latency.add_metric([unit], buckets, sum_value=hist[1])
        yield latency

        depth = GaugeMetricFamily(
            "pioreactor_agent_task_queue_depth", "Tasks waiting in the agent's Huey queue", labels=["unit"]
        )
        depth.add_metric([unit], a.queue.huey.pending_count())
        yield depth
        tasks = GaugeMetricFamily(
            "pioreactor_agent_tasks", "Tasks known to the agent by status", labels=["unit", "status"]
        )
        for status, n in a.store.query("SELECT status, count(*) FROM task_results GROUP BY 1 ORDER BY 1"):
            tasks.add_metric([unit, status], n)
        yield tasks
        yield from self._processes(unit, a.store.fact("worker_pid"))

    @staticmethod
    def _processes(unit: str, worker_pid: str) -> Iterator[Metric]:
        from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

        memory = GaugeMetricFamily(
            "pioreactor_agent_process_resident_memory_bytes",
            "Resident memory of the agent's processes",
            labels=["unit", "process"],
        )
        cpu = CounterMetricFamily(
            "pioreactor_agent_process_cpu_seconds",
            "CPU time of the agent's processes",
            labels=["unit", "process"],
        )
        pids = {"web": os.getpid()}
        if worker_pid.isdigit() and _is_worker(int(worker_pid)):
            pids["worker"] = int(worker_pid)
        for name, pid in pids.items():
            found = _proc(pid)
            if found is not None:
                memory.add_metric([unit, name], found[0])
                cpu.add_metric([unit, name], found[1])
        yield memory
        yield cpu


@bp.get("/metrics")
def metrics() -> Response:
    # imported at the first scrape: a unit nobody scrapes keeps prometheus_client out of memory (~0.7 MB)
    from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

    registry = CollectorRegistry(auto_describe=False)
    registry.register(AgentCollector())
    return Response(generate_latest(registry), mimetype=CONTENT_TYPE_LATEST)

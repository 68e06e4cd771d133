"""How fast the unit agent turns `POST /unit_api/jobs/run/...` into a started `pio` process, and how much
memory its two processes (gunicorn web, Huey worker) take - beside a bare-subprocess baseline.

    .venv/bin/python bench/agent_dispatch.py [--runs 100]

The agent is started exactly as deployed (the commands of the systemd units of
deploy/ansible/roles/unit_agent/templates/) against a real broker. Its `pio` is a tiny script whose first
act is to write the time; the same script started with `subprocess.Popen` from this process is the baseline.
Targets: p50 <= 100 ms, p99 <= 250 ms, web + worker
resident memory <= 60 MB PSS after the job starts with heartbeats (every second here) and metrics on (the
Prometheus endpoint scraped); PSS from /proc/<pid>/smaps_rollup. Its baseline, measured in the same run:
the same three processes with nothing of ours (gunicorn with the agent's worker settings serving a
one-line WSGI app, huey_consumer with the worker's flags on an empty SqliteHuey) - the floor we build on.
PSS shares a library's pages among every process mapping it, so the file-backed part (`file`) is smaller on
a busy machine; `anon` is the agent's own memory wherever it runs.
Measured 2026-12-04 on an idle machine (2 cores, load 0.3), back to back, both processes run with -OO (as
their systemd units start them; docstrings and asserts stay out of memory): 57.4-57.5 MB PSS (master 13.2,
web worker 25.2, Huey worker 19.0; anon 50.5, file 6.9), baseline 36.4 MB. The same without -OO: 61.3 MB
(anon 54.2). -OO only pays where the files it loads (`*.opt-2.pyc`) exist: a process that cannot write them
compiles every module in memory at each start and ends up far larger (71.5 MB with no bytecode file at
all, PYTHONPYCACHEPREFIX on a folder it cannot write), which is why the release role compiles the release
and its Python's standard library for it. Before issue #18's changes:
62.5 MB (13.0, 27.5, 22.0), and 2.1 MB more in production, where the master also ran gunicorn's control
socket. With more processes on the machine sharing the libraries' pages, `file` and so PSS are lower (load
~1.5 without -OO: 58.1-58.6 MB against 61.3 idle); `anon` does not move.
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
BIN = Path(sys.executable).parent
sys.path.insert(0, str(REPO))

from devcluster.broker import Broker  # noqa: E402
from devcluster.procs import Proc, free_port, http_ok, wait_for  # noqa: E402
from tests.agent.harness import AgentProc, exec_start, unit_environment  # noqa: E402


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


def memory(pids: list[int]) -> dict[str, float]:
    """Rss, Pss, Pss_Anon and Pss_File in MB summed over the processes (PSS shares pages fairly)."""
    out = dict.fromkeys(("Rss", "Pss", "Pss_Anon", "Pss_File"), 0.0)
    for pid in pids:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            key = line.split(":")[0]
            if key in out:
                out[key] += int(line.split()[1]) / 1024
    return out


def measured(pids: list[int]) -> tuple[dict[str, float], dict[str, float]]:
    """The processes' memory together, and each one's PSS (named master, web worker, huey)."""
    names = ("master", "web worker", "huey")
    return memory(pids), {name: memory([pid])["Pss"] for name, pid in zip(names, pids, strict=True)}


FLOOR_APP = """
from huey import SqliteHuey

huey = SqliteHuey("floor", filename="floor-huey.sqlite")


def app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok"]
"""


def floor(work: Path) -> tuple[dict[str, float], dict[str, float]]:
    """The three processes with nothing of ours: the agent's gunicorn and Huey flags, a trivial app."""
    (work / "floor_app.py").write_text(FLOOR_APP)
    port = free_port()
    flags = ["-k", "gthread", "-w", "1", "--threads", "4", "-b", f"127.0.0.1:{port}", "--no-control-socket"]
    env = unit_environment("unit-agent-web.service")  # MALLOC_ARENA_MAX, as the agent's units set it
    argv = [str(BIN / "python"), "-OO", "-m", "gunicorn", *flags, "floor_app:app"]  # as the agent's unit
    web = Proc(argv, work / "floor-web.log", env, cwd=work)
    argv = [
        a.replace("unit_agent.worker.huey", "floor_app.huey") for a in exec_start("unit-agent-worker.service")
    ]
    worker = Proc(
        argv,
        work / "floor-worker.log",
        unit_environment("unit-agent-worker.service"),
        cwd=work,
    )
    try:
        wait_for(lambda: http_ok(f"http://127.0.0.1:{port}/"), 30, 0.05, "floor web")
        wait_for(lambda: len(children(web.pid)) == 1, 10, 0.05, "floor web worker")
        for _ in range(100):
            http_ok(f"http://127.0.0.1:{port}/")
        return measured([web.pid, *children(web.pid), worker.pid])
    finally:
        web.stop()
        worker.stop()


def scrape(agent: AgentProc) -> None:
    req = urllib.request.Request(agent.url + "/unit_api/metrics")  # noqa: S310 (loopback)
    req.add_header("Authorization", f"Bearer {agent.token}")
    with urllib.request.urlopen(req, timeout=30) as resp:  # noqa: S310 (loopback)
        assert resp.status == 200 and b"# TYPE" in resp.read()


def children(pid: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()
    return [int(p) for p in out]


def compile_for_oo() -> str:
    """Write the `*.opt-2.pyc` files the agent's `-OO` processes load, as the release role does on every
    deploy (a no-op once written). Without them (a fresh venv, PYTHONDONTWRITEBYTECODE set) every start
    compiles in memory and the figure measures that, not the agent as deployed. Answers a note for the
    report: what could not be compiled."""
    import sysconfig

    stdlib = sysconfig.get_paths()["stdlib"]
    skip = f"^{stdlib}/(test|tests|idlelib|tkinter|turtledemo|lib2to3|site-packages|dist-packages)/"
    sources = [str(REPO / p / "src") for p in ("unit_agent", "shared", "leader")]
    site = sysconfig.get_paths()["purelib"]
    cmd = [sys.executable, "-OO", "-m", "compileall", "-q", "-j", "0", "-x", skip]
    done = subprocess.run([*cmd, site, *sources], capture_output=True, text=True)
    ours = "" if done.returncode == 0 else "the venv or sources could not all be compiled; "
    ok = subprocess.run([*cmd, stdlib], capture_output=True, text=True).returncode == 0
    return ours + (
        ""
        if ok
        else f"the standard library ({stdlib}) is not writable: figures include compiling it in memory"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=100)
    runs = parser.parse_args().runs
    note = compile_for_oo()
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
                total, each = measured([agent.web.pid, *children(agent.web.pid), agent.worker.pid])
            finally:
                agent.stop()
            floor_total, floor_each = floor(work)
        finally:
            broker.stop()
    print(f"POST run -> pio process started, {runs} runs (sequential)")
    print(f"  bare subprocess.Popen baseline: {percentiles(base)}")
    print(f"  through the agent:              {percentiles(agent_ms)}   (target p50 <= 100, p99 <= 250)")
    print(f"GET /unit_api/jobs/running: {running_ms:.1f} ms per request (from memory, no pio process)")
    print(f"memory, PSS of gunicorn master + web worker + Huey worker, after {runs} job starts:")
    for label, t, e in (("agent", total, each), ("baseline: nothing of ours", floor_total, floor_each)):
        target = "   (target <= 60 MB)" if label == "agent" else ""
        print(
            f"  {label:26s} PSS {t['Pss']:5.1f} MB{target}   anon {t['Pss_Anon']:.1f}, file "
            f"{t['Pss_File']:.1f}, RSS {t['Rss']:.1f}"
        )
        print("    each: " + ", ".join(f"{name} {mb:.1f}" for name, mb in e.items()))
    if note:
        print(f"  note: {note}")


if __name__ == "__main__":
    main()

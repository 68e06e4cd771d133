"""`make run`: a demo cluster on loopback until Ctrl-C (or SIGTERM).

Settings (environment):
    LEADER_PORT   the leader's HTTP port (default 8000)
    DEMO_UNITS    how many units/agents (default 3)
    DEMO_PIO      sim | real: `pio-sim` units, or the real pio 26.11.1 in testing mode (needs Python 3.13)
    DEMO_SPEED    simulated seconds per real second for pio-sim (default 600: a whole growth curve, lag to
                  stationary phase, in about two minutes)
    DEMO_DIR      where processes keep their files and logs (default .run/demo)
    DEMO_INFO     where to write the JSON below (default .run/demo.json)
    DEMO_APP_ENV  the leader's APP_ENV (default production); `development` opens /api and the pages
                  without credentials, the way to browse the UI until sign-in exists

Writes .run/demo.json for scripts: {"leader_url", "api_token" (an admin's), "cluster_token", "mqtt": {"host",
"port"}, "agents": [{"unit", "url"}], "admin_user", "admin_password", "viewer_user", "viewer_password"}.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import threading
from pathlib import Path

from leader import signals

from .cluster import Cluster, StartCancelled
from .units import real_pio_unavailable_reason

REPO = Path(__file__).resolve().parent.parent


def _int_env(name: str, default: int, low: int, high: int) -> int:
    raw = os.environ.get(name, str(default))
    try:
        value = int(raw)
    except ValueError:
        sys.exit(f"{name}={raw!r} is not a whole number")
    if not low <= value <= high:
        sys.exit(f"{name}={value} is out of range ({low}-{high})")
    return value


def _settings() -> tuple[int, int, str, float, Path, Path]:
    port = _int_env("LEADER_PORT", 8000, 1, 65535)
    units = _int_env("DEMO_UNITS", 3, 1, 50)
    pio = os.environ.get("DEMO_PIO", "sim")
    if pio not in ("sim", "real"):
        sys.exit(f"DEMO_PIO={pio!r}: use 'sim' or 'real'")
    if pio == "real" and (reason := real_pio_unavailable_reason()):
        sys.exit(f"DEMO_PIO=real is not possible here: {reason}")
    try:
        speed = float(os.environ.get("DEMO_SPEED", "600"))
    except ValueError:
        sys.exit("DEMO_SPEED must be a number")
    workdir = Path(os.environ.get("DEMO_DIR", REPO / ".run" / "demo")).resolve()
    info = Path(os.environ.get("DEMO_INFO", REPO / ".run" / "demo.json")).resolve()
    return port, units, pio, speed, workdir, info


def _banner(cluster: Cluster, info_path: Path) -> str:
    url, token = cluster.leader_url, cluster.api_token
    units = ", ".join(f"{a.name} ({a.url})" for a in cluster.agents)
    assert cluster.broker is not None
    return f"""
Pioreactor demo cluster is up.
  leader:     {url}
  API token:  {token}   (admin)
  sign in:    {url}/login  as {cluster.admin_user} / {cluster.admin_password}  (admin)
                           or {cluster.viewer_user} / {cluster.viewer_password}  (viewer)
  agents:     {units}
  broker:     {cluster.broker.kind} on {cluster.broker.host}:{cluster.broker.port}
  details:    {info_path}

Try (experiment `demo` has every unit assigned):
  curl -s -H 'Authorization: Bearer {token}' {url}/api/units
  curl -s -X POST -H 'Authorization: Bearer {token}' -H 'Content-Type: application/json' \\
       -d '{{"options": {{"target_rpm": 500}}}}' '{url}/api/experiments/demo/jobs/stirring/start?wait=10'

Press Ctrl-C to stop everything.
"""


def _write_info(cluster: Cluster, path: Path) -> None:
    assert cluster.broker is not None
    info = {
        "leader_url": cluster.leader_url,
        "api_token": cluster.api_token,
        "cluster_token": cluster.cluster_token,
        "mqtt": {"host": cluster.broker.host, "port": cluster.broker.port},
        "agents": [{"unit": a.name, "url": a.url} for a in cluster.agents],
        "admin_user": cluster.admin_user,
        "admin_password": cluster.admin_password,
        "viewer_user": cluster.viewer_user,
        "viewer_password": cluster.viewer_password,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(info, indent=2) + "\n")
    tmp.replace(path)  # a script polling for the file never reads half of it


def main() -> int:
    # Ctrl-C/SIGTERM only set `stop` (from the watcher thread: nothing runs in a signal handler), at any
    # moment, once or many times; start-up is cut short and everything started is stopped.
    watcher = signals.watch()
    try:
        return _run(watcher.stopping)
    finally:
        watcher.settle()


def _run(stop: threading.Event) -> int:
    port, units, pio, speed, workdir, info_path = _settings()
    if workdir.exists():
        shutil.rmtree(workdir)  # a demo starts from a clean slate; nothing here is meant to be kept
    workdir.mkdir(parents=True)
    info_path.unlink(missing_ok=True)
    kind = "pio-sim" if pio == "sim" else "real pio 26.11.1"
    print(f"Starting a demo cluster with {units} {kind} units...", flush=True)
    cluster = Cluster(
        workdir,
        units=units,
        pio=pio,
        sim_speed=speed,
        leader_port=port,
        app_env=os.environ.get("DEMO_APP_ENV", "production"),
        cancel=stop,
    )
    try:
        try:
            cluster.start()
            cluster.seed_demo_experiment("demo")
        except StartCancelled:
            print("\nStopped during start-up.", flush=True)
            return 0
        if stop.is_set():
            return 0
        _write_info(cluster, info_path)
        print(_banner(cluster, info_path), flush=True)
        while not stop.wait(1.0):
            if dead := cluster.dead_processes():
                print(f"Exited unexpectedly: {', '.join(dead)}. Logs are in {workdir}", flush=True)
                return 1
        print("\nStopping...", flush=True)
        return 0
    finally:
        cluster.stop()
        info_path.unlink(missing_ok=True)
        print("Demo cluster stopped.", flush=True)


if __name__ == "__main__":
    sys.exit(main())

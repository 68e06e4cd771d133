"""`make run`'s launcher: a demo cluster comes up, answers with the token it wrote, and stops cleanly."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlparse

import psutil
import requests

from devcluster.procs import free_port, port_open, wait_for

REPO = Path(__file__).resolve().parent.parent


def _working_in(folder: Path) -> list[str]:
    """Processes whose working directory is in `folder`: a unit's pio jobs run detached, in their own
    session, with a clean environment and no path on their command line, but inside their unit's folder."""
    found = []
    for p in psutil.process_iter(["pid", "status"]):
        try:
            if p.info["status"] != psutil.STATUS_ZOMBIE and Path(p.cwd()).is_relative_to(folder):
                found.append(f"{p.info['pid']} {' '.join(p.cmdline())[:120]}")
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue
    return found


def test_demo_cluster_starts_answers_and_stops(tmp_path: Path) -> None:
    info_path = tmp_path / "demo.json"
    port = free_port()
    env = {
        **os.environ,
        "LEADER_PORT": str(port),
        "DEMO_UNITS": "2",
        "DEMO_DIR": str(tmp_path / "demo"),
        "DEMO_INFO": str(info_path),
    }
    log = (tmp_path / "demo.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "devcluster"], cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT
    )
    try:
        wait_for(lambda: info_path.exists() or proc.poll() is not None, 90, 0.1, "demo.json")
        assert proc.poll() is None, (tmp_path / "demo.log").read_text()
        info = json.loads(info_path.read_text())
        assert info["leader_url"] == f"http://127.0.0.1:{port}"
        assert set(info) == {
            "leader_url",
            "api_token",
            "cluster_token",
            "mqtt",
            "agents",
            "admin_user",
            "admin_password",
            "viewer_user",
            "viewer_password",
        }
        assert [a["unit"] for a in info["agents"]] == ["unit1", "unit2"]
        auth = {"Authorization": f"Bearer {info['api_token']}"}
        units = requests.get(f"{info['leader_url']}/api/units", headers=auth, timeout=10).json()
        assert [u["name"] for u in units] == ["unit1", "unit2"]
        demo = requests.get(f"{info['leader_url']}/api/experiments/demo", headers=auth, timeout=10).json()
        assert sorted(demo["units"]) == ["unit1", "unit2"]
        r = requests.post(
            f"{info['leader_url']}/api/experiments/demo/jobs/stirring/start?wait=20",
            headers=auth,
            json={},
            timeout=30,
        )
        assert r.status_code == 202 and r.json()["operation"]["status"] == "succeeded", r.text
        output = (tmp_path / "demo.log").read_text()
        assert info["api_token"] in output and "curl" in output
        assert info["admin_password"] in output and info["viewer_password"] in output
        me = requests.get(f"{info['leader_url']}/api/me", headers=auth, timeout=10).json()
        assert me["role"] == "admin" and me["kind"] == "token"
        health = requests.get(f"{info['leader_url']}/api/health", timeout=10).json()
        assert health["setup_complete"] is True
        for who in ("admin", "viewer"):  # each account signs in with the printed password
            browser = requests.Session()
            form = browser.get(f"{info['leader_url']}/login", timeout=10).text
            csrf = re.search(r'name="csrf_token" value="([^"]+)"', form)
            assert csrf, form
            r = browser.post(
                f"{info['leader_url']}/login",
                data={
                    "username": info[f"{who}_user"],
                    "password": info[f"{who}_password"],
                    "csrf_token": csrf[1],
                },
                timeout=10,
                allow_redirects=False,
            )
            assert r.status_code == 303, r.text
            assert browser.get(f"{info['leader_url']}/api/me", timeout=10).json()["role"] == who

        assert _working_in(tmp_path / "demo"), "the check below would see the demo's processes and jobs"
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(10) == 0  # `make run` stops within 10 s of SIGTERM, its units' jobs too
        ports = [port, *(urlparse(a["url"]).port for a in info["agents"]), info["mqtt"]["port"]]
        assert not [p for p in ports if port_open("127.0.0.1", p)], "a demo process outlived the demo"
        assert not info_path.exists()  # no stale details once the cluster is gone
        assert _working_in(tmp_path / "demo") == [], "processes or jobs of the demo outlived it"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        log.close()


def test_demo_refuses_bad_settings(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "DEMO_UNITS": "zero",
        "DEMO_DIR": str(tmp_path / "d"),
        "DEMO_INFO": str(tmp_path / "i"),
    }
    done = subprocess.run(
        [sys.executable, "-m", "devcluster"], cwd=REPO, env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode != 0 and "DEMO_UNITS='zero' is not a whole number" in done.stderr

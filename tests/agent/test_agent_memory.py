"""What keeps the agent small (bench/agent_dispatch.py measures it: web + worker <= 60 MB PSS after 100
job starts): both processes run with -OO and lose nothing by it, the web process never loads the worker's
side (nor prometheus_client before a scrape), a process holds one SQLite connection to its store, and
gunicorn's master freezes its objects before it forks the worker and runs no control socket."""

from __future__ import annotations

import contextlib
import gc
import json
import os
import runpy
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from tests.agent.harness import REPO, exec_start
from unit_agent.store import Store
from unit_agent.tasks import NAMES
from unit_agent.worker_tasks import TASKS

# the worker's side; packaging (only plugin requests check versions) and prometheus_client (loaded at the
# first scrape of /unit_api/metrics)
NOT_AT_START = {
    "unit_agent.runtime",
    "unit_agent.jobs",
    "unit_agent.heartbeat",
    "unit_agent.worker_tasks",
    "packaging",
    "prometheus_client",
}

LOADED = """
import json, sys
from unit_agent.app import create_app
create_app()
print(json.dumps(sorted(sys.modules)))
"""


def _config(tmp_path: Path) -> Path:
    """The least an agent starts with: a unit name, a data folder and a private token."""
    token = tmp_path / "token"
    token.write_text("t" * 40 + "\n")
    token.chmod(0o600)
    values = {"unit": "mem", "data_dir": tmp_path / "data", "dot_pioreactor": tmp_path, "token_file": token}
    config = tmp_path / "unit_agent.toml"
    config.write_text("".join(f"{k} = {json.dumps(str(v))}\n" for k, v in values.items()))
    return config


def test_the_web_app_starts_without_the_worker_side_or_rarely_used_libraries(tmp_path: Path) -> None:
    env = {**os.environ, "UNIT_AGENT_CONFIG": str(_config(tmp_path))}
    out = subprocess.run(
        [sys.executable, "-c", LOADED], env=env, capture_output=True, text=True, check=True, timeout=60
    )
    loaded = set(json.loads(out.stdout.splitlines()[-1]))
    assert "unit_agent.tasks" in loaded  # it enqueues...
    assert not loaded & NOT_AT_START, loaded & NOT_AT_START


DOCUMENT = """
import json
from cluster_schema.openapi import document
from unit_agent.api import routes
print(json.dumps(document("agent", "1", routes(), roles=False), sort_keys=True))
"""


def test_both_processes_run_with_oo_and_the_served_document_keeps_every_description() -> None:
    for service in ("unit-agent-web.service", "unit-agent-worker.service"):
        argv = exec_start(service)
        assert argv[1:3] == ["-OO", "-m"] and argv[0].endswith("/python"), argv
    # -OO drops docstrings: a description the document takes from one would vanish from the agent's copy
    docs = [
        subprocess.run([sys.executable, *flags, "-c", DOCUMENT], capture_output=True, text=True, check=True)
        for flags in ([], ["-OO"])
    ]
    assert '"description"' in docs[0].stdout and docs[0].stdout == docs[1].stdout


def test_every_task_name_has_a_body() -> None:
    assert set(NAMES) == set(TASKS)


def _open_files(path: Path) -> int:
    count = 0
    for fd in os.listdir("/proc/self/fd"):
        with contextlib.suppress(OSError):  # an fd closed since the listing
            count += os.readlink(f"/proc/self/fd/{fd}") == str(path)
    return count


def test_one_connection_per_process_however_many_threads(tmp_path: Path) -> None:
    store = Store(tmp_path / "agent.sqlite", result_ttl=60)
    threads = [threading.Thread(target=store.set_fact, args=(f"k{i}", str(i))) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [store.fact(f"k{i}") for i in range(8)] == [str(i) for i in range(8)]
    assert _open_files(tmp_path / "agent.sqlite") == 1


def test_gunicorns_master_freezes_its_objects_and_runs_no_control_socket(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("UNIT_AGENT_CONFIG", str(_config(tmp_path)))
    monkeypatch.setenv("RUNTIME_DIRECTORY", str(tmp_path))  # as under systemd
    settings = runpy.run_path(str(REPO / "deploy" / "unit_agent" / "gunicorn.conf.py"))
    assert settings["preload_app"] is False and settings["workers"] == 1
    assert settings["control_socket_disable"] is True  # its asyncio thread: +2.1 MB in the master
    try:
        settings["pre_fork"](None, None)
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()

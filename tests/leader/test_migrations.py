"""Migrations run once per start-up, under a lock, after a backup; web processes wait for them; no leader
starts on a store newer than its code. Real processes, real SQLite files."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from devcluster.broker import Broker
from devcluster.procs import Proc, free_port, http_ok, wait_for
from leader.db import connect, migrate
from tests.leader.conftest import make_app

REPO = Path(__file__).resolve().parents[2]
PY = sys.executable


def _old_store(path: Path) -> None:
    """A store as the first release left it: only 0001 applied, with a row worth keeping."""
    number, _name, sql = migrate.migrations()[0]
    db = connect(str(path))
    for statement in migrate._statements(sql):
        db.execute(statement)
    db.execute(f"PRAGMA user_version = {number}")
    db.execute("INSERT INTO settings (key, value, updated_at) VALUES ('kept', '1', 'now')")
    db.close()


def _version(path: Path) -> int:
    with contextlib.closing(sqlite3.connect(path)) as db:
        return int(db.execute("PRAGMA user_version").fetchone()[0])


def test_concurrent_migrations_apply_each_file_once_after_one_backup(tmp_path: Path) -> None:
    store = tmp_path / "leader.sqlite"
    _old_store(store)
    code = "import sys; from leader.db.migrate import init_db; print(','.join(init_db(sys.argv[1])))"
    procs = [
        subprocess.Popen([PY, "-c", code, str(store)], stdout=subprocess.PIPE, text=True, cwd=REPO)
        for _ in range(3)
    ]
    outputs = [p.communicate(timeout=60)[0].strip() for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0]
    applied = [name for out in outputs for name in out.split(",") if name]
    expected = [name for number, name, _ in migrate.migrations() if number > 1]
    assert sorted(applied) == sorted(expected)  # every file once, by whichever process came first
    assert _version(store) == migrate.latest()
    backups = list((tmp_path / "backups").iterdir())
    assert len(backups) == 1, backups  # the others found nothing to do under the lock
    name = backups[0].name
    assert name.startswith(f"leader-v0001-to-v{migrate.latest():04d}-") and name.endswith(".sqlite")
    assert _version(backups[0]) == 1  # the store as it was before, a valid SQLite file
    with contextlib.closing(sqlite3.connect(backups[0])) as db:
        assert db.execute("SELECT value FROM settings WHERE key = 'kept'").fetchone() == ("1",)
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)


def test_a_new_store_is_not_backed_up(tmp_path: Path) -> None:
    store = tmp_path / "leader.sqlite"
    assert migrate.init_db(str(store))
    assert not (tmp_path / "backups").exists()
    assert migrate.init_db(str(store)) == []  # up to date: nothing to do, nothing copied
    assert not (tmp_path / "backups").exists()


def _newer_store(path: Path) -> int:
    migrate.init_db(str(path))
    newer = migrate.latest() + 1
    db = connect(str(path))
    db.execute(f"PRAGMA user_version = {newer}")
    db.close()
    return newer


def test_a_store_newer_than_the_code_is_refused(tmp_path: Path) -> None:
    newer = _newer_store(tmp_path / "leader.sqlite")
    with pytest.raises(migrate.StoreTooNew) as refused:
        make_app(tmp_path)
    message = str(refused.value)
    assert f"schema version {newer}" in message and f"latest migration is {migrate.latest()}" in message
    with pytest.raises(migrate.StoreTooNew):
        migrate.init_db(str(tmp_path / "leader.sqlite"))
    assert _version(tmp_path / "leader.sqlite") == newer  # untouched
    assert not (tmp_path / "backups").exists()


def _leader_files(dir: Path, port: int) -> dict[str, str]:
    config = dir / "leader.toml"
    config.write_text(
        f'SECRET_KEY = "{"s" * 40}"\nLISTEN = "127.0.0.1:{port}"\nDATABASE = "{dir / "leader.sqlite"}"\n'
        f'HUEY_DB = "{dir / "huey.sqlite"}"\nCLUSTER_TOKEN_FILE = "{dir / "cluster_token"}"\n'
    )
    return {
        **os.environ,
        "LEADER_CONFIG": str(config),
        "LEADER_INSTANCE_PATH": str(dir),
        "LEADER_WEB_WORKERS": "1",
        "APP_ENV": "production",
    }


def _init_db(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [PY, "-m", "flask", "--app", "leader", "init-db"], env=env, cwd=REPO, capture_output=True, text=True
    )


def test_init_db_cli_refuses_a_newer_store(tmp_path: Path) -> None:
    env = _leader_files(tmp_path, free_port())
    newer = _newer_store(tmp_path / "leader.sqlite")
    done = _init_db(env)
    assert done.returncode != 0
    assert f"schema version {newer}" in done.stderr and str(migrate.latest()) in done.stderr


@pytest.mark.parametrize(
    "argv",
    [
        ["-m", "leader.worker"],
        ["-m", "leader.ingest"],
        ["-m", "gunicorn", "--config", "deploy/leader/gunicorn.conf.py"],
    ],
    ids=["worker", "ingest", "web"],
)
def test_every_leader_process_refuses_a_newer_store(tmp_path: Path, argv: list[str]) -> None:
    env = _leader_files(tmp_path, free_port())
    store = tmp_path / "leader.sqlite"
    newer = _newer_store(store)
    before = store.read_bytes()
    done = subprocess.run([PY, *argv], env=env, cwd=REPO, capture_output=True, text=True, timeout=60)
    assert done.returncode != 0
    assert f"schema version {newer}, newer than this leader knows" in done.stderr, done.stderr[-3000:]
    assert _version(store) == newer and store.read_bytes() == before  # not migrated, not written
    assert not (tmp_path / "backups").exists()


@pytest.mark.parametrize("migrator", ["worker", "init-db"])
def test_web_waits_for_the_worker_to_migrate(tmp_path: Path, mqtt_broker: Broker, migrator: str) -> None:
    port = free_port()
    env = {**_leader_files(tmp_path, port), "LEADER_MQTT_URL": mqtt_broker.url}
    _old_store(tmp_path / "leader.sqlite")
    argv = [PY, "-m", "gunicorn", "--config", "deploy/leader/gunicorn.conf.py"]
    web = Proc(argv, tmp_path / "web.log", env, REPO)
    worker: Proc | None = None
    try:
        wait_for(lambda: "waiting up to" in web.output(), 20, 0.05, "the web's waiting message")
        assert web.alive() and not http_ok(f"http://127.0.0.1:{port}/api/health")
        assert _version(tmp_path / "leader.sqlite") == 1  # the web never migrates
        if migrator == "worker":
            worker = Proc([PY, "-m", "leader.worker"], tmp_path / "worker.log", env, REPO)
        else:
            done = _init_db(env)
            assert done.returncode == 0, done.stderr
        wait_for(lambda: http_ok(f"http://127.0.0.1:{port}/api/health"), 30, 0.05, "the web to serve")
        assert _version(tmp_path / "leader.sqlite") == migrate.latest()
        assert len(list((tmp_path / "backups").iterdir())) == 1
    finally:
        web.stop()
        if worker is not None:
            assert worker.stop() == 0, worker.output()


def test_web_gives_up_with_a_clear_error(tmp_path: Path) -> None:
    env = {**_leader_files(tmp_path, free_port()), "LEADER_SCHEMA_WAIT": "0.5"}
    _old_store(tmp_path / "leader.sqlite")
    done = subprocess.run(
        [PY, "-m", "gunicorn", "--config", "deploy/leader/gunicorn.conf.py"],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0
    assert f"still at schema version 1 after 0.5s; this code needs {migrate.latest()}" in done.stderr

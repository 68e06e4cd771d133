"""get_db reuses idle connections between requests, never one inside a transaction, never one to a store
that was replaced on disk (a restore), and keeps a bounded number."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

from leader.db import connect, get_db, pool, transaction

from .conftest import api_client, make_app


def test_requests_reuse_one_connection(tmp_path: Path) -> None:
    pool.clear()
    app = make_app(tmp_path)
    with app.app_context():
        first = get_db()
    with app.app_context():
        assert get_db() is first
    api = api_client(app)
    assert api.post("/api/experiments", json={"name": "a"}).status_code == 201
    assert api.get("/api/experiments").status_code == 200


def test_an_open_transaction_is_rolled_back_before_reuse(tmp_path: Path) -> None:
    pool.clear()
    app = make_app(tmp_path)
    with app.app_context():
        db = get_db()
        db.execute("BEGIN IMMEDIATE")
        db.execute("INSERT INTO experiments (name, description, created_at) VALUES ('half', '', 'x')")
    with app.app_context():
        db = get_db()
        assert not db.in_transaction
        assert db.execute("SELECT count(*) FROM experiments WHERE name = 'half'").fetchone()[0] == 0
        with transaction(db):  # and the lock was given back: another writer gets it
            db.execute("INSERT INTO experiments (name, description, created_at) VALUES ('whole', '', 'x')")


def test_a_store_replaced_on_disk_is_read_anew(tmp_path: Path) -> None:
    pool.clear()
    app = make_app(tmp_path / "live")
    api = api_client(app)
    assert api.post("/api/experiments", json={"name": "before"}).status_code == 201
    # a copy taken now, then a change, then the copy put back in place (what a restore does)
    path = Path(app.config["DATABASE"])
    copy = tmp_path / "copy.sqlite"
    src = connect(str(path))
    dst = sqlite3.connect(copy)
    src.backup(dst)
    src.close()
    dst.close()
    assert api.post("/api/experiments", json={"name": "after"}).status_code == 201
    for suffix in ("-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    shutil.copy(copy, tmp_path / "staged.sqlite")
    (tmp_path / "staged.sqlite").replace(path)
    names = {e["name"] for e in api.get("/api/experiments").get_json()}
    assert "before" in names and "after" not in names


def test_idle_connections_are_bounded(tmp_path: Path) -> None:
    pool.clear()
    apps = [make_app(tmp_path / f"s{i}") for i in range(pool.MAX_IDLE + 4)]
    for app in apps:
        with app.app_context():
            get_db().execute("SELECT 1")
    assert len(pool._idle) == pool.MAX_IDLE
    pool.clear()
    assert len(pool._idle) == 0

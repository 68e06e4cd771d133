"""POST /api/backups takes a backup as an operation; GET lists them; both admin only; the nightly job."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from apscheduler.schedulers.background import BackgroundScheduler

from leader import backups
from leader.db import connect
from leader.db import tokens as tokens_db

from .conftest import api_client, make_app


def test_post_takes_a_backup_and_get_lists_it_admin_only(tmp_path: Path) -> None:
    app = make_app(tmp_path, HUEY_IMMEDIATE=True, BACKUP_KEEP=2)
    api = api_client(app)
    for _ in range(3):
        answer = api.post("/api/backups")
        assert answer.status_code == 202
        assert answer.get_json()["operation"]["kind"] == "backup"
    op = api.get(answer.headers["Location"]).get_json()
    op = op.get("operation", op)
    assert op["status"] == "succeeded", op
    listed = api.get("/api/backups").get_json()
    assert len(listed["backups"]) == 2 and listed["keep"] == 2  # the oldest pruned
    newest = Path(app.config["BACKUP_DIR"]) / listed["backups"][0]["name"]
    with sqlite3.connect(newest) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"

    db = connect(app.config["DATABASE"])
    operator = tokens_db.create(db, "op", role="operator").token
    db.close()
    client = app.test_client()
    headers = {"Authorization": f"Bearer {operator}"}
    assert client.get("/api/backups", headers=headers).status_code == 403
    assert client.post("/api/backups", headers=headers).status_code == 403


def test_the_nightly_backup_is_a_job_on_the_worker_scheduler(tmp_path: Path) -> None:
    app = make_app(tmp_path, BACKUP_AT="30 3 * * *", BACKUP_KEEP=3)
    scheduler = BackgroundScheduler(timezone="UTC")
    backups.add_nightly(app, scheduler)
    job = scheduler.get_job("builtin:backup")
    assert job is not None
    job.func(*job.args)  # what the scheduler runs at 03:30
    assert len(backups.listing(app.config["BACKUP_DIR"])) == 1

    off = BackgroundScheduler(timezone="UTC")
    backups.add_nightly(make_app(tmp_path / "off", BACKUP_AT=""), off)
    assert off.get_jobs() == []

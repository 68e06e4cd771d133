"""Backups of the store: online copies taken while the leader runs, a kept count, and restore.

    flask --app leader backup [--to PATH]      # a consistent copy while ingest and the API keep writing
    flask --app leader restore PATH --force    # only with the web and worker processes stopped

A backup is SQLite's online backup (`leader.db.migrate.online_copy`, the same copy taken before a
migration), so it is a whole, consistent store at one instant. Backups taken here are named
`leader-YYYYmmddTHHMMSSZ.sqlite` in BACKUP_DIR; the oldest beyond BACKUP_KEEP are deleted (copies taken
before migrations or restores carry other names and are never pruned). Restore checks the file
(`PRAGMA integrity_check`, a store version this leader knows), keeps the store it replaces as
`pre-restore-*.sqlite` beside the backups, then copies the backup in with the same online backup, so
the -wal of the old store cannot be replayed over it.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from cluster_schema import cron as cron_syntax

from .db import connect, get_db
from .db import operations as ops_db
from .db.migrate import latest, online_copy, version
from .schedules.cron import StandardCronTrigger
from .schedules.triggers import default_timezone
from .tasks import register_task

log = logging.getLogger(__name__)

PREFIX = "leader-"
KIND = "backup"  # the operation `POST /api/backups` starts


def _stamp() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")


def take(database: str, folder: str, keep: int = 0, to: str | None = None) -> Path:
    """Copy the store to `to` (or a new stamped file in `folder`, then keep the newest `keep`)."""
    target = Path(to) if to else Path(folder) / f"{PREFIX}{_stamp()}.sqlite"
    target.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.closing(connect(database)) as db:
        online_copy(db, target)
    log.info("backup: store %s copied to %s", database, target)
    if not to and keep > 0:
        prune(folder, keep)
    return target


def listing(folder: str) -> list[Path]:
    """Backups taken by `take`, newest first."""
    return sorted(Path(folder).glob(f"{PREFIX}*.sqlite"), reverse=True)


def prune(folder: str, keep: int) -> list[Path]:
    gone = listing(folder)[keep:]
    for old in gone:
        old.unlink(missing_ok=True)
    return gone


def check(path: str) -> int:
    """The backup's store version, after checking it is a sound store this leader can open."""
    if not Path(path).is_file():
        raise click.ClickException(f"{path}: no such file")
    try:
        with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
            result = db.execute("PRAGMA integrity_check").fetchone()[0]
            found = version(db)
    except sqlite3.DatabaseError as exc:
        raise click.ClickException(f"{path}: not a store ({exc})") from exc
    if result != "ok":
        raise click.ClickException(f"{path}: integrity check failed: {result}")
    if found > latest():
        raise click.ClickException(f"{path}: store version {found} is newer than this leader ({latest()})")
    return found


def restore(database: str, folder: str, source: str) -> Path:
    """Replace the store with `source`; returns the kept copy of the replaced store."""
    check(source)
    kept = Path(folder) / f"pre-restore-{_stamp()}.sqlite"
    kept.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.closing(connect(database)) as db:
        online_copy(db, kept)
        with contextlib.closing(sqlite3.connect(f"file:{source}?mode=ro", uri=True)) as src:
            src.backup(db)  # page by page under the write lock; WAL mode and -wal stay coherent
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    log.warning("restore: store %s replaced by %s (the old store kept as %s)", database, source, kept)
    return kept


def run(app: Flask, op_id: str) -> None:
    """The `backup` operation, in the worker: one copy into BACKUP_DIR, the kept count applied."""
    db = get_db()
    if not ops_db.mark_started(db, op_id):
        return
    cfg = app.config
    try:
        target = take(cfg["DATABASE"], cfg["BACKUP_DIR"], int(cfg["BACKUP_KEEP"]))
    except Exception as exc:
        log.exception("backup %s failed", op_id)
        ops_db.add_line(db, op_id, "error", f"backup failed: {exc!r}")
        ops_db.finish(db, op_id, "failed")
        return
    ops_db.add_line(db, op_id, "info", f"{target.name}: {target.stat().st_size} bytes")
    ops_db.finish(db, op_id, "succeeded")


def register(queue: Any, app: Flask) -> None:
    """The worker's task; web processes enqueue it."""
    register_task(queue, app, "run_backup", KIND, functools.partial(run, app))


def add_nightly(app: Flask, scheduler: Any) -> None:
    """The built-in nightly backup: a job on the worker's scheduler at BACKUP_AT (lab's zone)."""
    at = str(app.config["BACKUP_AT"] or "").strip()
    if not at:
        return
    trigger = StandardCronTrigger(cron_syntax.parse(at, "BACKUP_AT"), ZoneInfo(default_timezone(app)))
    scheduler.add_job(_nightly, trigger, args=[app], id="builtin:backup", name="nightly backup")
    log.info("backups: nightly at %r (%s), keeping %s", at, default_timezone(app), app.config["BACKUP_KEEP"])


def _nightly(app: Flask, due: datetime | None = None) -> None:
    cfg = app.config
    try:
        take(cfg["DATABASE"], cfg["BACKUP_DIR"], int(cfg["BACKUP_KEEP"]))
    except Exception:  # the worker keeps running; the next night tries again
        log.exception("backups: the nightly backup (due %s) failed", due)


@click.command("backup")
@click.option("--to", "to", default=None, help="Write the copy here instead of BACKUP_DIR (not pruned).")
@with_appcontext
def backup_command(to: str | None) -> None:
    """Take a consistent copy of the store while the leader runs."""
    cfg = current_app.config
    click.echo(take(cfg["DATABASE"], cfg["BACKUP_DIR"], int(cfg["BACKUP_KEEP"]), to))


@click.command("restore")
@click.argument("path")
@click.option("--force", is_flag=True, help="Confirm the leader's web and worker processes are stopped.")
@with_appcontext
def restore_command(path: str, force: bool) -> None:
    """Replace the store with a backup (stop the web and worker processes first)."""
    if not force:
        raise click.ClickException(
            "stop the leader's web and worker processes first, then run again with --force "
            "(a running leader would keep writing to the store being replaced)"
        )
    cfg = current_app.config
    kept = restore(cfg["DATABASE"], cfg["BACKUP_DIR"], path)
    click.echo(f"restored {path}; the replaced store is kept as {kept}")


def init_app(app: Flask) -> None:
    app.cli.add_command(backup_command)
    app.cli.add_command(restore_command)

"""Apply `migrations/NNNN_name.sql` in order; `PRAGMA user_version` holds the last applied number.

Who migrates: once per start-up, the leader worker (`python -m leader.worker`) or
`flask --app leader init-db`, under an exclusive file lock next to the store (`<store>.migrate.lock`),
after a consistent copy of the store (`backups/<store>-v<from>-to-v<to>-<time>.sqlite` next to it; none
for a new, empty store). Web processes never migrate: gunicorn (deploy/leader/gunicorn.conf.py) waits,
bounded by `SCHEMA_WAIT`, until the store's version is the code's. Tests and `APP_ENV=development` migrate
inside `create_app` (`AUTO_MIGRATE`). Every leader process refuses a store NEWER than its code (a rollback
to an older release must not write to a schema it does not know).
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import re
import sqlite3
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from functools import cache
from importlib import resources
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from . import connect

log = logging.getLogger(__name__)

_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")
WAIT_POLL = 0.2


class StoreTooNew(RuntimeError):
    """The store was migrated by a newer release than this one."""


@cache
def migrations() -> list[tuple[int, str, str]]:
    """(number, file name, sql), ordered; duplicate numbers are a packaging error."""
    found: dict[int, tuple[int, str, str]] = {}
    for entry in resources.files("leader.db").joinpath("migrations").iterdir():
        m = _NAME.match(entry.name)
        if not m:
            continue
        number = int(m.group(1))
        if number in found:
            raise RuntimeError(f"two migrations numbered {number:04d}: {found[number][1]} and {entry.name}")
        found[number] = (number, entry.name, entry.read_text(encoding="utf-8"))
    return [found[n] for n in sorted(found)]


def latest() -> int:
    """The schema version this code expects."""
    return migrations()[-1][0]


def version(db: sqlite3.Connection) -> int:
    return int(db.execute("PRAGMA user_version").fetchone()[0])


def _statements(sql: str) -> list[str]:
    out, buf = [], ""
    for line in sql.splitlines(keepends=True):
        buf += line
        if sqlite3.complete_statement(buf):
            out.append(buf.strip())
            buf = ""
    if buf.strip():
        out.append(buf.strip())
    return [s for s in out if s.rstrip(";").strip()]


def _refuse_newer(path: str, found: int) -> None:
    if found > latest():
        raise StoreTooNew(
            f"The store {path} is at schema version {found}, newer than this leader knows (its latest "
            f"migration is {latest()}): a newer release migrated it. Refusing to start so that this older "
            "code cannot corrupt it; run the newer release, or restore a backup from "
            f"{Path(path).parent / 'backups'} taken before that upgrade."
        )


def upgrade(db: sqlite3.Connection) -> list[str]:
    """Apply every migration newer than the store, each with its version bump in one transaction.

    The version is read again inside the write transaction: even without the file lock of `init_db`,
    two processes never apply a file twice.
    """
    _refuse_newer("(open connection)", version(db))
    applied = []
    for number, name, sql in migrations():
        if number <= version(db):
            continue
        db.execute("BEGIN IMMEDIATE")
        try:
            if number > version(db):
                for statement in _statements(sql):
                    db.execute(statement)
                db.execute(f"PRAGMA user_version = {number}")
                applied.append(name)
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")
    return applied


@contextlib.contextmanager
def _exclusive(path: str) -> Iterator[None]:
    """One migrating process per store at a time, across processes (released if the holder dies)."""
    with open(f"{path}.migrate.lock", "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def backup(db: sqlite3.Connection, path: str, to: int) -> Path:
    """A consistent copy (SQLite's online backup) of the store before migrating it to version `to`."""
    folder = Path(path).parent / "backups"
    folder.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S.%fZ")
    target = folder / f"{Path(path).stem}-v{version(db):04d}-to-v{to:04d}-{stamp}.sqlite"
    return online_copy(db, target)


def online_copy(db: sqlite3.Connection, target: Path) -> Path:
    """Copy the store to `target` with SQLite's online backup: consistent while others keep writing.

    The one way the leader copies its store (before migrations, `flask backup`, the nightly backup).
    """
    part = target.with_suffix(".part")
    part.unlink(missing_ok=True)
    dest = sqlite3.connect(part)
    try:
        db.backup(dest)
    finally:
        dest.close()
    part.replace(target)  # a backup that exists is a whole one
    return target


def init_db(path: str) -> list[str]:
    """Create the store or bring it up to date, once, under the lock, after a backup. Applied names."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with _exclusive(path):
        db = connect(path)
        try:
            current = version(db)
            _refuse_newer(path, current)
            if current == latest():
                return []
            tables = db.execute("SELECT count(*) FROM sqlite_master WHERE type = 'table'").fetchone()[0]
            if current > 0 or tables:  # a new, empty store has nothing worth keeping
                saved = backup(db, path, latest())
                log.info("store %s: backed up to %s before migrating", path, saved)
            applied = upgrade(db)
            log.info(
                "store %s: migrated from version %d to %d (%s)", path, current, latest(), ", ".join(applied)
            )
            return applied
        finally:
            db.close()


def stored_version(path: str) -> int:
    """The store's version without creating or changing anything (0 when it does not exist yet)."""
    if not Path(path).exists():
        return 0
    with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)) as db:
        return version(db)


def check(path: str) -> int:
    """Refuse a store newer than the code (StoreTooNew); answer its version."""
    found = stored_version(path)
    _refuse_newer(path, found)
    return found


def wait_for_schema(path: str, timeout: float, stop: threading.Event | None = None) -> None:
    """Block until the store is at the code's version (another process migrates it), at most `timeout`
    seconds; returns early once `stop` is set (the process is asked to stop)."""
    deadline = time.monotonic() + timeout
    found = check(path)
    if found == latest():
        return
    log.warning(
        "store %s is at schema version %d, this code needs %d: waiting up to %gs for the leader worker "
        "(`python -m leader.worker`) or `flask --app leader init-db` to migrate it",
        path,
        found,
        latest(),
        timeout,
    )
    while time.monotonic() < deadline:
        if stop is not None and stop.wait(WAIT_POLL):
            return
        if stop is None:
            time.sleep(WAIT_POLL)
        if check(path) == latest():
            log.info("store %s: schema version %d, as needed", path, latest())
            return
    raise RuntimeError(
        f"The store {path} is still at schema version {check(path)} after {timeout:g}s; this code needs "
        f"{latest()}. Start the leader worker (`python -m leader.worker`) or run "
        "`flask --app leader init-db`."
    )


def prepare(app: Flask) -> None:
    """At app creation: refuse a newer store; migrate here only with AUTO_MIGRATE (tests, development)."""
    path = app.config["DATABASE"]
    if app.config["AUTO_MIGRATE"]:
        init_db(path)
    else:
        check(path)


@click.command("init-db")
@with_appcontext
def init_db_command() -> None:
    """Create the store or bring it up to date (safe to run again; backs it up first)."""
    applied = init_db(current_app.config["DATABASE"])
    for name in applied:
        click.echo(f"applied {name}")
    click.echo(f"store at {current_app.config['DATABASE']} is up to date")


def init_app(app: Flask) -> None:
    app.cli.add_command(init_db_command)

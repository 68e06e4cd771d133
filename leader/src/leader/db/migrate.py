"""Apply `migrations/NNNN_name.sql` in order; `PRAGMA user_version` holds the last applied number."""

from __future__ import annotations

import re
import sqlite3
from importlib import resources
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from . import connect

_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")


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


def upgrade(db: sqlite3.Connection) -> list[str]:
    """Apply every migration newer than the store, each with its version bump in one transaction.

    The version is read inside the write transaction, so processes starting together (gunicorn workers,
    the worker) apply each file exactly once.
    """
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


def init_db(path: str) -> list[str]:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    db = connect(path)
    try:
        return upgrade(db)
    finally:
        db.close()


@click.command("init-db")
@with_appcontext
def init_db_command() -> None:
    """Create the store or bring it up to date (safe to run again)."""
    applied = init_db(current_app.config["DATABASE"])
    for name in applied:
        click.echo(f"applied {name}")
    click.echo(f"store at {current_app.config['DATABASE']} is up to date")


def init_app(app: Flask) -> None:
    app.cli.add_command(init_db_command)

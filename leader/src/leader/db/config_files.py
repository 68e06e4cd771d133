"""Config files kept by the leader (Pioreactor INI), each save also written to history."""

from __future__ import annotations

import configparser
import hashlib
import sqlite3

from cluster_schema.errors import BadRequest, Conflict, NotFound
from cluster_schema.leader import ConfigFile

from . import now, transaction


def sha256(content: str) -> str:
    return hashlib.sha256(content.encode()).hexdigest()


def validate_ini(content: str, name: str) -> None:
    """Pioreactor reads these with configparser; refuse what it would refuse, naming the line."""
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    try:
        parser.read_string(content, source=name)
    except configparser.Error as exc:
        first = str(exc).splitlines()[0]
        raise BadRequest(f"Invalid INI at `$.content`: {first}", code="invalid_config") from None


def list_files(db: sqlite3.Connection) -> list[ConfigFile]:
    rows = db.execute("SELECT name, sha256, updated_at FROM config_files ORDER BY name").fetchall()
    return [ConfigFile(name=r[0], content="", sha256=r[1], updated_at=r[2]) for r in rows]


def get(db: sqlite3.Connection, name: str) -> ConfigFile:
    row = db.execute(
        "SELECT name, content, sha256, updated_at FROM config_files WHERE name = ?", (name,)
    ).fetchone()
    if row is None:
        raise NotFound(f"No config file named {name!r}.")
    return ConfigFile(name=row[0], content=row[1], sha256=row[2], updated_at=row[3])


def put(
    db: sqlite3.Connection,
    name: str,
    content: str,
    expected_sha256: str | None = None,
    saved_by: str | None = None,
) -> ConfigFile:
    """Save a new version; with `expected_sha256`, only if nobody saved another version meanwhile."""
    validate_ini(content, name)
    digest, stamp = sha256(content), now()
    with transaction(db):
        row = db.execute("SELECT sha256 FROM config_files WHERE name = ?", (name,)).fetchone()
        if expected_sha256 is not None and (row is None or row[0] != expected_sha256):
            raise Conflict(f"Config file {name!r} changed meanwhile (sha256 differs); reload it and retry.")
        db.execute(
            "INSERT INTO config_files (name, content, sha256, updated_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT(name) DO UPDATE SET content = excluded.content, sha256 = excluded.sha256, "
            "updated_at = excluded.updated_at",
            (name, content, digest, stamp),
        )
        db.execute(
            "INSERT INTO config_file_history (name, content, sha256, saved_at, saved_by) "
            "VALUES (?, ?, ?, ?, ?)",
            (name, content, digest, stamp, saved_by),
        )
    return get(db, name)


def contents(db: sqlite3.Connection) -> dict[str, str]:
    """Every file's current content by name (what a sync writes)."""
    return {r[0]: r[1] for r in db.execute("SELECT name, content FROM config_files")}


def history(db: sqlite3.Connection, name: str, limit: int = 50) -> list[ConfigFile]:
    get(db, name)
    rows = db.execute(
        "SELECT name, content, sha256, saved_at FROM config_file_history WHERE name = ? "
        "ORDER BY id DESC LIMIT ?",
        (name, limit),
    ).fetchall()
    return [ConfigFile(name=r[0], content=r[1], sha256=r[2], updated_at=r[3]) for r in rows]

"""Config files kept by the leader (Pioreactor INI), each save also written to history with who saved it."""

from __future__ import annotations

import hashlib
import sqlite3

from cluster_schema.config_files import ConfigFile, ConfigVersion
from cluster_schema.errors import Conflict, NotFound

from ..config_check import check, unified_diff
from . import now, transaction


def sha256(content: str) -> str:
    return hashlib.sha256(content.encode()).hexdigest()


def list_files(db: sqlite3.Connection) -> list[ConfigFile]:
    rows = db.execute("SELECT name, sha256, updated_at FROM config_files ORDER BY name").fetchall()
    return [ConfigFile(name=r[0], content="", sha256=r[1], updated_at=r[2]) for r in rows]


def find(db: sqlite3.Connection, name: str) -> ConfigFile | None:
    row = db.execute(
        "SELECT name, content, sha256, updated_at FROM config_files WHERE name = ?", (name,)
    ).fetchone()
    return None if row is None else ConfigFile(name=row[0], content=row[1], sha256=row[2], updated_at=row[3])


def get(db: sqlite3.Connection, name: str) -> ConfigFile:
    found = find(db, name)
    if found is None:
        raise NotFound(f"No config file named {name!r}.")
    return found


def put(
    db: sqlite3.Connection,
    name: str,
    content: str,
    expected_sha256: str | None = None,
    saved_by: str | None = None,
    reverted_from: int | None = None,
) -> ConfigFile:
    """Save a new version; with `expected_sha256`, only if nobody saved another version meanwhile."""
    check(content, name)
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
            "INSERT INTO config_file_history (name, content, sha256, saved_at, saved_by, reverted_from) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (name, content, digest, stamp, saved_by, reverted_from),
        )
    return get(db, name)


def contents(db: sqlite3.Connection) -> dict[str, str]:
    """Every file's current content by name (what a sync writes)."""
    return {r[0]: r[1] for r in db.execute("SELECT name, content FROM config_files")}


_VERSION = "SELECT id, name, content, sha256, saved_at, saved_by, reverted_from FROM config_file_history"


def _version(row: tuple) -> ConfigVersion:
    return ConfigVersion(
        id=row[0],
        name=row[1],
        content=row[2],
        sha256=row[3],
        saved_at=row[4],
        updated_at=row[4],
        saved_by=row[5],
        reverted_from=row[6],
    )


def history(db: sqlite3.Connection, name: str, limit: int = 50) -> list[ConfigVersion]:
    """Newest first, each with its diff against the version saved before it."""
    get(db, name)
    # one more row than shown: the oldest shown still gets its diff against its predecessor
    rows = db.execute(f"{_VERSION} WHERE name = ? ORDER BY id DESC LIMIT ?", (name, limit + 1)).fetchall()
    versions = [_version(r) for r in rows]
    for newer, older in zip(versions, [*versions[1:], None], strict=True):
        before = older.content if older else ""
        newer.diff = unified_diff(
            before, newer.content, name, f"#{older.id}" if older else "empty", f"#{newer.id}"
        )
    return versions[:limit]


def version(db: sqlite3.Connection, name: str, version_id: int) -> ConfigVersion:
    row = db.execute(f"{_VERSION} WHERE name = ? AND id = ?", (name, version_id)).fetchone()
    if row is None:
        raise NotFound(f"No version {version_id} of config file {name!r}.")
    return _version(row)


def revert(
    db: sqlite3.Connection, name: str, version_id: int, expected_sha256: str | None, saved_by: str | None
) -> ConfigFile:
    """A revert is a new version with the old content: history only grows, and says what was restored."""
    old = version(db, name, version_id)
    return put(db, name, old.content, expected_sha256, saved_by, reverted_from=version_id)

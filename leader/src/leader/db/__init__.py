"""The leader's store: one SQLite file (WAL, busy timeout, foreign keys), versioned by ordered migrations.

How to add to it
----------------
* A migration: add `leader/src/leader/db/migrations/NNNN_short_name.sql` (four digits, applied in order,
  each in one transaction; `PRAGMA user_version` records the highest applied number). Never edit an applied
  file; add a new one. 0001-0049 core, 0050-0059 MQTT ingest, then one range per concern so files
  added side by side never collide: 0060-0069 contract additions (labels, notes, presence), 0070-0079
  people (users, sessions, audit), 0080-0089 schedules, 0090-0099 profiles, 0100-0109 fleet,
  0110-0119 alerts, 0120- later concerns.
* A data-access module: `leader/src/leader/db/<concern>.py` with plain functions taking the connection
  first, e.g. `def add(db: sqlite3.Connection, ...) -> ...`. Callers pass `get_db()` (inside a request or
  app context) or a connection from `connect(path)` (threads, CLI). Group writes that belong together in
  `with transaction(db):`. Rows come back as `sqlite3.Row`; convert to Structs in the module.
* An API blueprint: a module `leader/src/leader/api/<concern>.py` defining `bp = Blueprint(...)` (no
  url_prefix needed: it is nested under `/api`) and optionally `ROUTES: list[cluster_schema.openapi.Route]`
  for the OpenAPI document. Every module of `leader.api` that defines `bp` is registered automatically;
  every route requires credentials unless its view is decorated with `leader.auth.public`.

Who migrates (leader.db.migrate)
--------------------------------
Once per start-up, by the leader worker (`python -m leader.worker`) or `flask --app leader init-db`:
under an exclusive lock (`<store>.migrate.lock`, flock), after a consistent copy of the store into
`backups/` next to it (`<store>-v<from>-to-v<to>-<time>.sqlite`; none for a new, empty store). Web
processes never migrate: gunicorn's master waits (`SCHEMA_WAIT` seconds, then exits saying why) until the
store's `user_version` is the code's latest migration. Tests (`create_app(test_config)`) and
`APP_ENV=development` migrate inside `create_app` (`AUTO_MIGRATE`, same lock). Every leader process
refuses a store whose version is higher than its newest migration (`StoreTooNew`, naming both): an
older release must not write to a schema it does not know; restore the backup to roll back.

Timestamps are stored as ISO 8601 UTC text with milliseconds and a `Z` (`now()`), which sorts as time.
"""

from __future__ import annotations

import contextlib
import sqlite3
import time
from collections.abc import Iterator
from datetime import UTC, datetime

from flask import Flask, current_app, g

from . import pool

BUSY_TIMEOUT_MS = 10_000
LOCK_POLL = (0.001, 0.005)  # a writer waiting for the write lock tries again after 1 ms, then up to 5 ms


def now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


SYNCHRONOUS = ("FULL", "EXTRA", "NORMAL")


def connect(path: str, synchronous: str = "FULL") -> sqlite3.Connection:
    """A connection in autocommit mode; `transaction()` opens explicit write transactions.

    `synchronous=FULL` (the default, setting DB_SYNCHRONOUS): in WAL mode every COMMIT fsyncs the WAL,
    so a write that was answered (HTTP 2xx) or acknowledged (MQTT PUBACK) survives a power cut. NORMAL
    only fsyncs at checkpoints and may lose the last commits - on a Pi whose SD card loses power. The
    cost is one fsync per transaction; the ingest batches, so it pays one per batch (bench/ingest.py).
    """
    synchronous = synchronous.upper()
    if synchronous not in SYNCHRONOUS:
        raise ValueError(f"synchronous must be one of {SYNCHRONOUS}, not {synchronous!r}")
    conn = sqlite3.connect(
        path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None, check_same_thread=False
    )
    conn.row_factory = sqlite3.Row
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute(f"PRAGMA synchronous = {synchronous}")
    return conn


@contextlib.contextmanager
def transaction(db: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """BEGIN IMMEDIATE takes the write lock up front: two writers wait (busy timeout), never fail."""
    if db.in_transaction:  # nested use joins the outer transaction
        yield db
        return
    begin_immediate(db)
    try:
        yield db
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


@contextlib.contextmanager
def snapshot(db: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """Reads that all see one state of the store (a deferred BEGIN takes no lock; in WAL mode the first
    read fixes what the others see), e.g. a page and the cursor its live stream starts from."""
    if db.in_transaction:
        yield db
        return
    db.execute("BEGIN")
    try:
        yield db
    finally:
        db.execute("COMMIT")  # ends a read: nothing to keep or undo


def begin_immediate(db: sqlite3.Connection) -> None:
    """Take the write lock, waiting up to BUSY_TIMEOUT_MS. Not with SQLite's busy handler: it sleeps ever
    longer (100 ms per try after the first 300 ms), so a writer beside a busy one - the ingest committing
    batch after batch, with a few milliseconds between them - misses every gap and fails with "database
    is locked" after 10 s (bench/load.py: 56 of 600 writes). Polling every few milliseconds takes the
    next gap: the wait is about one batch."""
    db.execute("PRAGMA busy_timeout = 0")
    try:
        deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
        pause = LOCK_POLL[0]
        while True:
            try:
                db.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as exc:
                if not str(exc).startswith("database is locked") or time.monotonic() >= deadline:
                    raise
            time.sleep(pause)
            pause = min(pause * 1.5, LOCK_POLL[1])
    finally:
        db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")


def get_db() -> sqlite3.Connection:
    """The connection of the current app context (request, CLI command or worker task): an idle one of
    this process when there is one (leader.db.pool: a new connection parses the whole schema first)."""
    if "db" not in g:
        path, sync = current_app.config["DATABASE"], current_app.config["DB_SYNCHRONOUS"]
        taken = pool.take(path, sync)
        if taken is None:
            ident = pool.identity(path)
            conn = connect(path, sync)
            taken = conn, ident or pool.identity(path)
        g.db, g.db_identity = taken
    return g.db


def close_db(_exc: BaseException | None = None) -> None:
    db = g.pop("db", None)
    if db is not None:
        pool.give(
            current_app.config["DATABASE"], current_app.config["DB_SYNCHRONOUS"], g.pop("db_identity"), db
        )


def init_app(app: Flask) -> None:
    from . import migrate

    app.teardown_appcontext(close_db)
    migrate.init_app(app)

"""An acknowledged message survives the process dying before a checkpoint and a copy taken mid-write.

A true power cut cannot be made here; what the test shows is the two halves of the claim: every store
connection the ingest and the API use runs synchronous=FULL (each COMMIT fsyncs the WAL before the
PUBACK or the HTTP answer), and the files on disk at any instant - a process SIGKILLed with
everything still in the -wal, a copy of db + -wal taken while the writer appends - open as a sound store
holding every message acknowledged before that instant.
"""

from __future__ import annotations

import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from devcluster.procs import wait_for
from devcluster.store_fill import leader_app
from leader.db import connect, get_db
from leader.ingest import start as start_ingest

from .conftest import REPO

WRITER = Path(__file__).with_name("durable_writer.py")


def seqs(path: Path) -> set[int]:
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        rows = db.execute("SELECT message FROM logs WHERE message LIKE 'seq=%'").fetchall()
    return {int(r[0][4:]) for r in rows}


@contextmanager
def acking_writer(db_path: str) -> Iterator[list[int]]:
    """durable_writer.py storing `seq=N` logs in its own process; `acked[0]` is the last N it acknowledged.
    SIGKILLed on leaving: everything it wrote may still be in the -wal."""
    proc = subprocess.Popen(
        [sys.executable, str(WRITER), db_path, str(REPO / "contrib")],
        stdout=subprocess.PIPE,
        text=True,
    )
    acked = [-1]

    def read_acks() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            acked[0] = int(line)

    reader = threading.Thread(target=read_acks, daemon=True)
    reader.start()
    try:
        yield acked
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        reader.join(10)


def test_acked_messages_survive_a_kill_before_checkpoint_and_a_copy_mid_write(
    db_path: str, tmp_path: Path
) -> None:
    with acking_writer(db_path) as acked:
        wait_for(lambda: acked[0] >= 2000, 30, 0.01, what="2000 messages acknowledged")
        # the copy: the db file, then the -wal while the writer keeps appending to it
        before_copy = acked[0]
        copy = tmp_path / "copy"
        copy.mkdir()
        shutil.copyfile(db_path, copy / "leader.sqlite")
        shutil.copyfile(db_path + "-wal", copy / "leader.sqlite-wal")
        wait_for(lambda: acked[0] >= before_copy + 2000, 30, 0.01, what="2000 more acknowledged")
    last_acked = acked[0]
    # nothing was checkpointed: what was acknowledged is in the -wal only
    assert Path(db_path + "-wal").stat().st_size > 0

    in_copy = seqs(copy / "leader.sqlite")
    assert set(range(before_copy + 1)) <= in_copy, "a message acknowledged before the copy is missing"
    in_store = seqs(Path(db_path))
    assert set(range(last_acked + 1)) <= in_store, "an acknowledged message is missing after the kill"


def test_ingest_and_api_connections_commit_with_synchronous_full(tmp_path: Path) -> None:
    app = leader_app(tmp_path, MQTT_URL="mqtt://127.0.0.1:1")  # never reached: the test reads the pragmas
    assert app.config["DB_SYNCHRONOUS"] == "FULL"
    with app.app_context():
        assert get_db().execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    running = start_ingest(app)
    try:
        conn = running.writer._connect()
        assert conn.execute("PRAGMA synchronous").fetchone()[0] == 2
        conn.close()
    finally:
        running.stop()
    assert connect(str(tmp_path / "leader.sqlite"), "normal").execute("PRAGMA synchronous").fetchone()[0] == 1

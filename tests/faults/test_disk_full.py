"""The store's disk fills up: 507 `storage_full` and a log line, a sound store, service back with space.

The store lives on a 3 MiB tmpfs the test mounts (root only; skipped with the reason otherwise).
"""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.leader.conftest import api_client, make_app


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    mnt = tmp_path / "small"
    mnt.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a size-capped tmpfs needs root")
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(mnt)], capture_output=True, text=True
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a size-capped tmpfs here: {done.stderr.strip()}")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


def fill(folder: Path) -> Path:
    """Write a file until the filesystem refuses more."""
    filler = folder / "filler"
    with open(filler, "wb") as fh, contextlib.suppress(OSError):
        while True:
            fh.write(b"\0" * 65536)
            fh.flush()
    return filler


def test_a_full_disk_answers_507_keeps_the_store_sound_and_recovers(
    small_disk: Path, caplog: pytest.LogCaptureFixture
) -> None:
    app = make_app(small_disk)
    api = api_client(app)
    assert api.post("/api/experiments", json={"name": "before"}).status_code == 201
    filler = fill(small_disk)

    with caplog.at_level(logging.ERROR, logger="leader.errors"):
        for i in range(500):  # the WAL may still hold a few free pages: write until the disk refuses
            answer = api.post("/api/experiments", json={"name": f"full{i}", "description": "x" * 5000})
            if answer.status_code != 201:
                break
    assert answer.status_code == 507, answer.get_data(as_text=True)
    assert answer.get_json()["error"] == "storage_full"
    assert "disk is full" in caplog.text

    filler.unlink()  # space returns (with none, SQLite cannot even open the store to check it)
    with sqlite3.connect(app.config["DATABASE"]) as db:  # before any new write: the fault left it sound
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    # the same leader writes again
    assert api.post("/api/experiments", json={"name": "after"}).status_code == 201
    names = {e["name"] for e in api.get("/api/experiments").get_json()}
    assert {"before", "after"} <= names

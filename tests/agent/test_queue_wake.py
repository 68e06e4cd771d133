"""The agent's Huey queue is woken by an enqueue instead of polled (unit_agent.queue_wake)."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from unit_agent import queue_wake
from unit_agent.queue_wake import WakeableSqliteStorage


def test_an_idle_worker_is_woken_by_an_enqueue(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(queue_wake, "WAIT", 60.0)  # without a wake-up the waiting dequeue would take a minute
    worker = WakeableSqliteStorage("q", filename=str(tmp_path / "huey.sqlite"))
    web = WakeableSqliteStorage("q", filename=str(tmp_path / "huey.sqlite"))
    worker._listen()  # the worker is listening before the web process enqueues
    got: list[bytes | None] = []
    waiting = threading.Thread(target=lambda: got.append(worker.dequeue()))
    started = time.monotonic()
    waiting.start()
    web.enqueue(b"task-1")
    waiting.join(30)
    assert got == [b"task-1"] and time.monotonic() - started < 30


def test_enqueue_without_a_worker_and_a_second_worker_still_work(tmp_path: Path) -> None:
    web = WakeableSqliteStorage("q", filename=str(tmp_path / "huey.sqlite"))
    web.enqueue(b"nobody listening")  # no worker yet: the task waits in SQLite, nothing raises
    first = WakeableSqliteStorage("q", filename=str(tmp_path / "huey.sqlite"))
    second = WakeableSqliteStorage("q", filename=str(tmp_path / "huey.sqlite"))
    assert first.dequeue() == b"nobody listening"
    assert first._listen() is not None and second._listen() is None  # the address is taken: plain polling
    web.enqueue(b"polled")
    assert second.dequeue() == b"polled"


def test_two_queues_never_share_a_wake_up_address(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    a = WakeableSqliteStorage("q", filename=str(tmp_path / "a" / "huey.sqlite"))
    b = WakeableSqliteStorage("q", filename=str(tmp_path / "b" / "huey.sqlite"))
    assert a._address != b._address

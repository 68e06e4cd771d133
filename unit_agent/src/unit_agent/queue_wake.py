"""Huey's SQLite queue, woken instead of polled: the worker waits on a datagram socket, the web process
sends one byte after each enqueue.

Why: SQLite cannot block, so Huey's four worker threads polled the queue every 10-50 ms, which was all of the
idle agent's CPU (~1 % of a core here, several times that on a Pi). Now each idle thread looks at the queue
every WAIT seconds, and a task still starts within milliseconds because its enqueue wakes the worker.
A lost wake-up (no worker yet, a full socket buffer) costs at most WAIT seconds, never a task: the queue in
SQLite stays the only truth. The socket lives in Linux's abstract namespace (no file, no path-length limit,
nothing to clean up), named after the queue's file so two agents on one machine never wake each other.
"""

from __future__ import annotations

import hashlib
import os
import select
import socket
import threading
from typing import Any

from huey.storage import SqliteStorage

WAIT = 0.5  # seconds an idle worker thread waits for a wake-up before it looks at the queue anyway


def _address(filename: str) -> str:
    digest = hashlib.sha256(os.path.abspath(filename).encode()).hexdigest()[:24]
    return f"\0pioreactor-agent-queue-{digest}"


class WakeableSqliteStorage(SqliteStorage):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._address = _address(self.filename)
        self._listener: socket.socket | None = None
        self._bind_lock = threading.Lock()

    # -- the web process ----------------------------------------------------------------------------------
    def enqueue(self, data: bytes, priority: float | None = None) -> None:
        super().enqueue(data, priority)
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as s:
                s.setblocking(False)
                s.sendto(b"!", self._address)
        except OSError:
            pass  # no worker listening (yet), or its buffer is full of wake-ups already: it looks anyway

    # -- the worker ---------------------------------------------------------------------------------------
    def _listen(self) -> socket.socket | None:
        with self._bind_lock:
            if self._listener is None:
                s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
                try:
                    s.bind(self._address)
                except OSError:
                    s.close()  # another worker holds it (or no abstract sockets): plain polling, every WAIT
                    return None
                s.setblocking(False)
                self._listener = s
            return self._listener

    def dequeue(self) -> bytes | None:
        data = super().dequeue()
        if data is not None:
            return data
        listener = self._listen()
        if listener is None:
            return None
        readable, _, _ = select.select([listener], [], [], WAIT)
        if readable:
            try:
                while True:
                    listener.recv(64)  # drain: one look at the queue serves every wake-up so far
            except (BlockingIOError, OSError):
                pass
        return super().dequeue()

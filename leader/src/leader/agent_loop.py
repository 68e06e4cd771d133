"""The one asyncio event loop of a leader process that talks to the unit agents, on its own thread.

Why one loop instead of a thread per agent: a fan-out to 1,000 agents is CPU-bound in the leader, and
1,000 threads each blocking on a socket spent their time in GIL hand-offs and the kernel (bench/fanout.py:
6x one unit's time at 1,000 units). On one loop, a waiting request costs nothing but its socket.

Callers stay synchronous (Flask handlers, the worker's tasks): they hand a coroutine to `submit` and wait on
the future it returns. The loop starts on first use and again after a fork (gunicorn forks its workers; a
thread does not survive a fork).
"""

from __future__ import annotations

import asyncio
import os
import resource
import threading
from collections.abc import Coroutine
from concurrent.futures import Future
from typing import Any, TypeVar

T = TypeVar("T")

_lock = threading.Lock()
_state: dict[str, Any] = {}  # "loop", "pid", "thread"


def loop() -> asyncio.AbstractEventLoop:
    """The process's agent loop, started if it is not running (first use, or a forked child)."""
    current = _state.get("loop")
    if current is not None and _state.get("pid") == os.getpid():
        return current
    with _lock:
        if _state.get("loop") is None or _state.get("pid") != os.getpid():
            _raise_open_files()
            new = asyncio.new_event_loop()
            thread = threading.Thread(target=new.run_forever, name="agent-loop", daemon=True)
            thread.start()
            _state.update(loop=new, pid=os.getpid(), thread=thread)
        return _state["loop"]


def submit(coro: Coroutine[Any, Any, T]) -> Future[T]:
    """Run `coro` on the agent loop; cancelling the returned future cancels the coroutine."""
    if threading.current_thread() is _state.get("thread"):
        coro.close()
        raise RuntimeError("agent_loop.submit from the loop's own thread would wait on itself")
    return asyncio.run_coroutine_threadsafe(coro, loop())


def _raise_open_files() -> None:
    """A socket per agent: the usual soft limit of 1,024 files is too few for a 1,000-unit fan-out."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = 65536 if hard == resource.RLIM_INFINITY else min(hard, 65536)
    if soft != resource.RLIM_INFINITY and soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))

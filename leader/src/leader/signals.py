"""Stopping on SIGTERM/SIGINT without doing anything in a signal handler.

A Python signal handler runs in the main thread between two bytecodes, possibly while that thread holds
a lock (inside `Event.wait`, a logging call, a queue operation); a handler that takes the same lock
(`Event.set`, logging…) deadlocks the process. So the handlers here do nothing at all: the interpreter's
C-level handler writes each signal's number to a pipe (`signal.set_wakeup_fd`), and a watcher thread
reads it and does the work (sets `stopping`, calls the callback) as ordinary code.

    watcher = signals.watch()            # once, as early as possible, in the main thread
    while not watcher.stopping.wait(1):  # safe anywhere, main thread included: no handler touches it
        ...
    watcher.count                        # how many stop signals came (a second one means "hurry")
    watcher.settle()                     # cleanup done: later signals change nothing

`Consumer` is Huey's consumer on this mechanism; the worker, `python -m leader.ingest` and devcluster's
demo stop this way. The agent has the same (`unit_agent.sim.signals`, `unit_agent.signals`): the two
packages never import each other.
"""

from __future__ import annotations

import logging
import os
import select
import signal
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from huey.consumer import Consumer as HueyConsumer

log = logging.getLogger(__name__)

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


def _ignore(_signum: int, _frame: Any) -> None:
    """Installed so the C handler writes the wakeup byte; deliberately does nothing (see the module)."""


class SignalWatcher:
    def __init__(self, signals: Iterable[int] = STOP_SIGNALS) -> None:
        self.stopping = threading.Event()
        self.received: list[int] = []
        self._callbacks: list[Callable[[int], None]] = []
        self._changed = threading.Condition()
        self._r, self._w = os.pipe()
        os.set_blocking(self._r, False)
        os.set_blocking(self._w, False)
        self.signals = tuple(signals)
        for sig in self.signals:
            signal.signal(sig, _ignore)
        signal.set_wakeup_fd(self._w, warn_on_full_buffer=False)
        threading.Thread(target=self._watch, name="signal-watcher", daemon=True).start()

    @property
    def count(self) -> int:
        return len(self.received)

    def on_signal(self, callback: Callable[[int], None]) -> None:
        """Call `callback(signum)` (on the watcher thread) for every stop signal, past ones included."""
        with self._changed:
            self._callbacks.append(callback)
            past = list(self.received)
        for signum in past:
            callback(signum)

    def settle(self) -> None:
        """Shutdown is done: ignore further stop signals. (At exit Python puts back the default action of
        signals it handled, so a late signal would turn a clean exit into a death by that signal.)"""
        for sig in self.signals:
            signal.signal(sig, signal.SIG_IGN)

    def wait_for_count(self, count: int, timeout: float) -> bool:
        """True once `count` stop signals have come; False after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while self.count < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._changed.wait(left)
        return True

    def _watch(self) -> None:
        while True:
            select.select([self._r], [], [])
            try:
                data = os.read(self._r, 64)
            except BlockingIOError:
                continue
            for signum in data:
                if signum not in self.signals:
                    continue  # another signal with a Python handler (e.g. SIGALRM) also writes here
                with self._changed:
                    self.received.append(signum)
                    callbacks = list(self._callbacks)
                    self._changed.notify_all()
                self.stopping.set()
                for callback in callbacks:
                    try:
                        callback(signum)
                    except Exception:
                        log.exception("stop-signal callback failed")


_watcher: SignalWatcher | None = None


def watch(signals: Iterable[int] = STOP_SIGNALS) -> SignalWatcher:
    """The process's watcher, installed by the first call (on the main thread), which names the signals."""
    global _watcher
    if _watcher is None:
        _watcher = SignalWatcher(signals)
    return _watcher


class Consumer(HueyConsumer):
    """Huey's consumer, stopped by `watch()` instead of its own handlers (Huey's re-arm SIGINT to raise
    KeyboardInterrupt wherever the main thread is, and SIGTERM leaves the shutdown hooks to daemon threads
    that die with the process).

    Either signal: take no more tasks, give running ones `grace` seconds (a second signal ends the wait),
    run the shutdown hooks once in the main thread, return. Tasks still running are abandoned; the store
    says so at the next start (their operations become `interrupted`).
    """

    grace = 3.0  # below the 5 s a supervisor (devcluster, tests) gives before SIGKILL

    abandoned = 0  # worker threads still busy when run() returned

    def _set_signal_handlers(self) -> None:
        self.watcher = watch()

    def run(self) -> None:
        self.start()
        checked = time.monotonic()
        while not self.watcher.stopping.wait(1.0):
            if self._health_check and time.monotonic() >= checked + self._health_check_interval:
                checked = time.monotonic()
                self.check_worker_health()
        self.stop_flag.set()
        name = signal.Signals(self.watcher.received[0]).name
        self._logger.info("%s: taking no more tasks, up to %gs for running ones", name, self.grace)
        procs = [p for _, p in self.worker_threads] + [self.scheduler]
        deadline = time.monotonic() + self.grace
        first = self.watcher.count
        while any(p.is_alive() for p in procs) and time.monotonic() < deadline:
            if self.watcher.wait_for_count(first + 1, 0.05):
                self._logger.info("second signal: not waiting for running tasks")
                break
        if busy := sum(p.is_alive() for p in procs):
            self._logger.warning("%d worker thread(s) still busy; exiting without them", busy)
        self.abandoned = busy
        for hook in list(self.huey._shutdown.values()):
            try:
                hook()  # idempotent hooks: a worker thread that finished in time already ran them
            except Exception:
                self._logger.exception("shutdown hook failed")
        self.huey.notify_interrupted_tasks()
        self.watcher.settle()
        self._logger.info("Consumer exiting.")

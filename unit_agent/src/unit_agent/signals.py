"""The agent worker's Huey consumer, stopped by the signal watcher of `unit_agent.sim.signals` (the one
mechanism of this package: pio-sim jobs use it too). Nothing runs in a signal handler; see that module.
"""

from __future__ import annotations

import signal
import time

from huey.consumer import Consumer as HueyConsumer

from .sim.signals import watch

__all__ = ["Consumer", "watch"]


class Consumer(HueyConsumer):
    """Huey's consumer, stopped by `watch()` instead of its own handlers (Huey's re-arm SIGINT to raise
    KeyboardInterrupt wherever the main thread is, and SIGTERM leaves the shutdown hooks to daemon threads
    that die with the process).

    Either signal: take no more tasks, give running ones `grace` seconds (a second signal ends the wait),
    run the shutdown hooks once in the main thread, return. Tasks still running are abandoned; the store
    says so at its next start (a task that was running is reported failed).
    """

    grace = 3.0  # Settings.worker_shutdown_grace (default below the 5 s devcluster gives before SIGKILL)

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

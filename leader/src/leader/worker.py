"""The leader worker: the Huey consumer that runs operations, the MQTT ingest client and the scheduler.

Start it with `python -m leader.worker` (same configuration as the web app: `LEADER_CONFIG`, `LEADER_*`).
`huey_consumer leader.worker.huey -k thread -w 4` works too; `python -m` sets a short poll interval so an
operation starts within ~0.1 s of being queued. Exactly one worker runs per cluster.

On start-up, before any task runs, operations a crashed worker left `running` become `interrupted`.
"""

from __future__ import annotations

import importlib
import logging
import threading
from typing import Any

from huey import SqliteHuey

from . import alerts, create_app
from .extensions import agents
from .fleet.checker import Checker
from .operations import engine
from .schedules import runner as schedules_runner

log = logging.getLogger("leader.worker")

app = create_app()
huey: SqliteHuey = app.extensions["leader.huey"]

_started = threading.Lock()
_done = False
_ingest: list[Any] = []  # the running ingest, stopped (flushed) when the consumer stops
_checker: list[Checker] = []


@huey.on_startup()
def start_up() -> None:
    """Runs in every consumer thread; the first one does the work while the others wait for it, so no
    thread picks up a task before recovery is over."""
    global _done
    with _started:
        if _done:
            return
        with app.app_context():
            interrupted = engine.recover()
            if interrupted:
                log.warning(
                    "marked %d operation(s) interrupted: %s", len(interrupted), ", ".join(interrupted)
                )
        _start_ingest()
        schedules_runner.start(app)
        with app.app_context():
            cfg = app.config
            _checker.append(
                Checker(
                    cfg["DATABASE"],
                    agents(),
                    float(cfg["FLEET_CHECK_INTERVAL"]),
                    float(cfg["FLEET_STALE_AFTER"]),
                ).start()
            )
        # stopped with the ingest (LIFO) by shut_down
        _ingest.append(
            alerts.start(app, lambda: next((i.stats() for i in _ingest if hasattr(i, "stats")), None))
        )
        _done = True


def _start_ingest() -> None:
    try:
        ingest = importlib.import_module("leader.ingest")
    except ImportError:
        log.info("no MQTT ingest installed; the worker runs operations only")
        return
    start = getattr(ingest, "start", None)
    if start is None:
        log.info("leader.ingest has no start(app); MQTT ingest is not running")
        return
    _ingest.append(start(app))


@huey.on_shutdown()
def shut_down() -> None:
    with _started:
        schedules_runner.stop()
        while _checker:
            _checker.pop().stop()
        while _ingest:
            running = _ingest.pop()
            stop = getattr(running, "stop", None)
            if stop is not None:
                stop()


def main() -> None:
    threads = int(app.config["WORKER_THREADS"])
    consumer = huey.create_consumer(
        workers=threads, worker_type="thread", initial_delay=0.02, backoff=1.5, max_delay=0.25, periodic=False
    )
    log.info("leader worker: %d thread(s), queue %s", threads, app.config["HUEY_DB"])
    consumer.run()


if __name__ == "__main__":
    main()

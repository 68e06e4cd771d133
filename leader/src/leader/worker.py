"""The leader worker: the Huey consumer that runs operations, the MQTT ingest client, the scheduler, the
alerts and the experiment profiles' driver.

Start it with `python -m leader.worker` (same configuration as the web app: `LEADER_CONFIG`, `LEADER_*`).
Exactly one worker runs per cluster. Start-up, in order, before any task runs:

1. the store is migrated (under the migration lock, with a backup first: `leader.db.migrate.migrate`);
   web processes wait for this;
2. operations a crashed worker left `running` become `interrupted`, `queued` ones are queued again;
3. the MQTT ingest, the scheduler (leader.schedules), the alerts (leader.alerts), the profile driver
   (leader.profiles.driver) and the logs' search indexer (leader.log_index) start; then the consumer
   (short poll interval: an operation starts within ~0.1 s).

SIGTERM or SIGINT, once or repeatedly, at any moment: no more tasks, running operations get
`WORKER_SHUTDOWN_GRACE` seconds (a second signal ends the wait; what is still running is `interrupted` at
the next start), the ingest commits what it holds, exit 0 (`leader.signals`).
"""

from __future__ import annotations

import gc
import logging
import os
import threading

from . import alerts, create_app, ingest, log_index, signals
from .db import migrate
from .extensions import agents
from .fleet.checker import Checker
from .operations import engine
from .profiles.driver import Driver
from .schedules import runner as schedules_runner

log = logging.getLogger("leader.worker")


def main() -> None:
    watcher = signals.watch()  # first: a signal during start-up is kept, not fatal
    try:
        abandoned = _run(watcher.stopping)
    finally:
        watcher.settle()
    if abandoned:
        # Their threads wait in their fan-outs until the operations' deadlines; those operations are
        # `interrupted` at the next start anyway.
        log.warning("exiting without %d running task(s): their operations are interrupted", abandoned)
        logging.shutdown()
        os._exit(0)


def _run(stopping: threading.Event) -> int:
    """Start up, consume until a stop signal, shut down; answers how many tasks were left running."""
    app = create_app()
    migrate.init_db(app.config["DATABASE"])
    if stopping.is_set():
        return 0
    with app.app_context():
        interrupted = engine.recover()
    if interrupted:
        log.warning("marked %d operation(s) interrupted: %s", len(interrupted), ", ".join(interrupted))
    running = ingest.start(app)
    schedules_runner.start(app)
    alerting = alerts.start(app, running.stats)
    profiles = Driver(app).start()
    app.extensions["leader.profile_driver"] = profiles  # a `profile.run` task wakes it
    with app.app_context():  # fills versions for units silent on MQTT (leader.fleet.checker)
        cfg = app.config
        every, stale = float(cfg["FLEET_CHECK_INTERVAL"]), float(cfg["FLEET_STALE_AFTER"])
        checker = Checker(cfg["DATABASE"], agents(), every, stale).start()
    indexer = log_index.Filler(app.config["DATABASE"]).start()  # logs' text search (leader.log_index)
    try:
        threads = int(app.config["WORKER_THREADS"])
        consumer = signals.Consumer(
            app.extensions["leader.huey"],
            workers=threads,
            worker_type="thread",
            initial_delay=0.02,
            backoff=1.5,
            max_delay=0.25,
            periodic=False,
        )
        consumer.grace = float(app.config["WORKER_SHUTDOWN_GRACE"])
        log.info("leader worker: %d thread(s), queue %s", threads, app.config["HUEY_DB"])
        # What start-up made lives as long as the process: full collections need not walk it again. A
        # 1,000-unit fan-out triggers several (its requests' objects outlive the young generations), and
        # each walked the whole heap: ~60 ms of an operation's ~400 (bench/fanout.py), a third of that now.
        gc.freeze()
        if not stopping.is_set():
            consumer.run()
        return consumer.abandoned
    finally:  # the reverse of start-up; the ingest last, so it commits what it holds
        indexer.stop()
        checker.stop()
        profiles.stop()
        alerting.stop()
        schedules_runner.stop()
        running.stop()


if __name__ == "__main__":
    main()

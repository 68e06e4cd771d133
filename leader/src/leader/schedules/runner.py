"""The cluster's scheduler: APScheduler in the leader worker (exactly one per cluster), following the store.

`start(app)` loads every enabled schedule into a BackgroundScheduler; a thread then reads one row
(`schedules_version`, bumped by SQL triggers on any change by any web worker) every SCHEDULE_POLL seconds
and reloads what changed, so an edit takes effect within about that long. `stop()` shuts it down.

Misfires: each job coalesces (however many due times were missed, it runs once, for the latest), runs one
instance at a time, and a due time later than SCHEDULE_MISFIRE_GRACE seconds is skipped. At start a job's
next due time is the one after the schedule's last recorded firing, so a firing missed while the worker was
down runs once on return (within the grace window); a frozen worker catches up the same way when it thaws.
Exactly once: see `fire` (the store refuses a second firing of one due time).
"""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.executors.base import run_job
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from flask import Flask

from .. import backups
from ..db import connect
from ..db import schedules as sched_db
from . import fire as firing
from .triggers import build, default_timezone, first_due

log = logging.getLogger(__name__)

DEFAULT_POLL = 0.5
DEFAULT_GRACE = 600.0


class _WithDue:
    """A job as `run_job` sees it, whose function also gets the due time (APScheduler 3 does not pass it)."""

    def __init__(self, job: Any, due: datetime) -> None:
        self._job = job
        self.kwargs = {**job.kwargs, "due": due}

    def __getattr__(self, name: str) -> Any:
        return getattr(self._job, name)

    def __str__(self) -> str:
        return str(self._job)


class DueTimeExecutor(ThreadPoolExecutor):
    """APScheduler's thread pool, keeping its misfire checks and events, passing `due=` to the function."""

    def _do_submit_job(self, job: Any, run_times: list[datetime]) -> None:
        def run() -> list[Any]:
            events: list[Any] = []
            for due in run_times:  # one after coalescing
                events += run_job(_WithDue(job, due), job._jobstore_alias, [due], self._logger.name)
            return events

        def done(f: Any) -> None:
            exc = f.exception()
            if exc:
                self._run_job_error(job.id, exc, exc.__traceback__)
            else:
                self._run_job_success(job.id, f.result())

        self._pool.submit(run).add_done_callback(done)


class Runner:
    def __init__(self, app: Flask) -> None:
        self.app = app
        self.poll = float(app.config.get("SCHEDULE_POLL", DEFAULT_POLL))
        self.grace = grace = float(app.config.get("SCHEDULE_MISFIRE_GRACE", DEFAULT_GRACE))
        self.scheduler = BackgroundScheduler(
            timezone="UTC",
            executors={"default": DueTimeExecutor(max_workers=4)},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": grace},
        )
        # APScheduler logs two INFO lines per run: a 1 s schedule would fill the worker's log with them
        logging.getLogger("apscheduler.executors.default").setLevel(logging.WARNING)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._follow, name="schedules-follow", daemon=True)
        self._version = -1
        self._loaded: dict[str, str] = {}  # job id -> the schedule's updated_at when loaded

    def start(self) -> Runner:
        self.scheduler.start()
        backups.add_nightly(self.app, self.scheduler)  # built in: not a row in the schedules table
        self.sync()
        self._thread.start()
        log.info("schedules: %d loaded; following changes every %.2fs", len(self._loaded), self.poll)
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(5)
        self.scheduler.shutdown(wait=True)

    def _follow(self) -> None:
        while not self._stop.wait(self.poll):
            try:
                self.sync()
            except Exception:  # a busy or broken store must not end the scheduler; the next poll retries
                log.exception("schedules: reload failed")

    def sync(self) -> bool:
        """Reload when the store's version moved; True when it did."""
        db = connect(self.app.config["DATABASE"])
        try:
            version = sched_db.version(db)
            if version == self._version:
                return False
            rows = sched_db.all_rows(db)
            last = {r.id: sched_db.last_due(db, r.id) for r in rows}
        finally:
            db.close()
        wanted = {str(r.id): r for r in rows if r.enabled}
        for job_id in list(self._loaded):
            if job_id not in wanted:
                self._remove(job_id)
        for job_id, row in wanted.items():
            if self._loaded.get(job_id) == row.updated_at:
                continue
            self._remove(job_id)
            trigger = build(row.trigger, row.active_since, default_timezone(self.app))
            due = first_due(trigger, last[row.id], row.active_since)
            floor = datetime.now(UTC) - timedelta(seconds=self.grace)
            if (
                due is not None and due < floor
            ):  # older misses are skipped anyway: don't count them one by one
                due = trigger.get_next_fire_time(None, floor)
            self._loaded[job_id] = row.updated_at
            if due is None:
                continue  # a date that has fired, a cron that never matches
            self.scheduler.add_job(
                self._fire, trigger, args=[row.id], id=job_id, name=row.name, next_run_time=due
            )
        self._version = version
        return True

    def _remove(self, job_id: str) -> None:
        self._loaded.pop(job_id, None)
        if self.scheduler.get_job(job_id) is not None:
            self.scheduler.remove_job(job_id)

    def _fire(self, schedule_id: int, due: datetime | None = None) -> None:
        # `due` comes from DueTimeExecutor; the default satisfies APScheduler's check of the signature
        assert due is not None
        with self.app.app_context():
            op = firing.fire(schedule_id, due)
        if op is not None:
            log.info("schedule %d fired (due %s): operation %s %s", schedule_id, due, op.id, op.status)


_running: list[Runner] = []


def start(app: Flask) -> Runner:
    """Start the scheduler of this process (the leader worker); idempotent."""
    if not _running:
        _running.append(Runner(app).start())
    return _running[0]


def stop() -> None:
    while _running:
        _running.pop().stop()

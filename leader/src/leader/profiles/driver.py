"""Run profiles: one thread in the leader worker fires due plan rows from the store; no thread per action.

Every `PROFILE_TICK` seconds (or when woken by a new run) the driver reads the open `profile.run`
operations and, for each, in the real order (time, action priority, plan order):
* claims each due row (pending -> running, in a transaction) before it acts, so no row fires twice,
  whichever worker (or restart) gets there first;
* a start/stop/pause/resume/update row submits an ordinary operation for its unit
  (`requested_by: profile:<run id>`, trigger `profile`) and follows it until it finishes;
* a log row writes the experiment's log; a repeat row adds its iteration's rows and the next iteration's
  row; a `when` row re-checks its condition every `PROFILE_WHEN_POLL` seconds, then adds its rows;
* `if` is evaluated when the row fires, lookups read the last value the ingest stored.

A dry run submits nothing and writes no experiment log: each row says what it would have done.

Restart rule (documented in the README): a run resumes from the store. Every pending row whose time has
passed fires once, as soon as the worker is back, in plan order; a repeat's next iteration keeps its
cadence from the scheduled time, but never earlier than now, so missed iterations are not replayed in a
burst. A row claimed by a worker that died before it recorded an operation is marked failed, never
repeated.
"""

from __future__ import annotations

import logging
import threading
import time

from flask import Flask

from cluster_schema.leader import FINISHED

from .. import tasks
from ..db import get_db, transaction
from ..db import operations as ops_db
from ..db import profiles as store
from ..db.profiles import Row
from ..operations.submit import submit
from . import expr
from .act import Outcome, Run, act
from .validate import load

log = logging.getLogger(__name__)


class Driver:
    def __init__(self, app: Flask) -> None:
        self.app = app
        self.runs: dict[str, Run] = {}
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="profile-driver", daemon=True)

    def start(self) -> Driver:
        self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout)

    def wake(self) -> None:
        self._wake.set()

    def _loop(self) -> None:
        tick = float(self.app.config["PROFILE_TICK"])
        with self.app.app_context():
            self.recover()
            while not self._stop.is_set():
                try:
                    self.tick()
                except Exception:
                    log.exception("profile driver: tick failed")
                self._wake.wait(tick)
                self._wake.clear()

    def recover(self) -> None:
        """Rows a dead worker claimed but never recorded an operation for: failed, not repeated."""
        db = get_db()
        for run_id in store.open_runs(db):
            for row in store.rows_with(db, run_id, "running"):
                if row.operation_id is None:
                    with transaction(db):
                        store.settle(db, run_id, row.seq, "failed", "the leader worker stopped as it fired")

    def tick(self) -> None:
        db = get_db()
        with transaction(db):
            store.close_ended(db)
        for run_id in store.open_runs(db):
            try:
                self.step(run_id)
            except Exception as exc:
                log.exception("profile run %s failed", run_id)
                ops_db.add_line(db, run_id, "error", f"internal error: {exc!r}")
                ops_db.finish(db, run_id, "failed", "internal error in the leader")
                self.runs.pop(run_id, None)

    def _run(self, run_id: str) -> Run:
        if run_id not in self.runs:
            op = ops_db.get(get_db(), run_id)
            result = load(op.params["yaml"])
            assert result.profile is not None  # validated before the run was stored
            self.runs[run_id] = Run(
                run_id,
                result.profile,
                op.params["experiment"],
                float(op.params["started"]),
                bool(op.params.get("dry_run")),
            )
        return self.runs[run_id]

    def step(self, run_id: str) -> None:
        db = get_db()
        status, cancel = ops_db.status(db, run_id)
        if status == "queued" and not ops_db.mark_started(db, run_id):
            return
        run = self._run(run_id)
        if cancel:
            self.cancel(run)
            return
        busy = self._follow(run)
        for row in store.due(db, run_id, time.time()):
            # one action at a time per unit, as Pioreactor's single loop waits for each (a start must be
            # ready before the update due a second later); other units go on meanwhile
            if row.unit in busy:
                continue
            if self.fire(run, row):
                busy.add(row.unit)
        counts = store.counts(db, run_id)
        if not counts.get("pending") and not counts.get("running"):
            self.finish(run, counts)

    def _follow(self, run: Run) -> set[str]:
        """Rows waiting on their operation: done when it succeeded, failed otherwise. Answers the units
        with an operation still in flight."""
        db = get_db()
        busy: set[str] = set()
        for row in store.rows_with(db, run.id, "running"):
            if row.operation_id is None:
                continue
            op_status = ops_db.status(db, row.operation_id)[0]
            if op_status not in FINISHED:
                busy.add(row.unit)
            else:
                ok = op_status == "succeeded"
                steps = ops_db.get(db, row.operation_id).steps
                detail = "; ".join(s.detail for s in steps if s.detail) or op_status
                with transaction(db):
                    store.settle(db, run.id, row.seq, "done" if ok else "failed", f"{op_status}: {detail}")
        return busy

    def fire(self, run: Run, row: Row) -> bool:
        """Claim, act and record in one transaction: a row fires once or not at all, even if the worker
        dies. An operation it submits is enqueued after the commit (a restart re-enqueues queued ones)."""
        db = get_db()
        with transaction(db):
            if not store.claim(db, run.id, row.seq):
                return False  # fired already
            try:
                outcome = act(run, row)
            except expr.ExpressionError as exc:
                outcome = Outcome("failed", f"Error in action: {exc}")
            except Exception as exc:
                log.exception("profile run %s: row %s failed", run.id, row.seq)
                outcome = Outcome("failed", f"Error in action: {exc!r}")
            if outcome.again_at is not None:
                store.settle(db, run.id, row.seq, "pending", outcome.detail, at=outcome.again_at)
            else:
                store.settle(db, run.id, row.seq, outcome.status, outcome.detail, outcome.operation_id)
                level = outcome.level or ("error" if outcome.status == "failed" else "info")
                text = f"{row.unit} {row.job} {row.action}: {outcome.detail}"
                ops_db.add_line(db, run.id, level, text, row.unit)
            if outcome.rows:
                store.add_rows(db, run.id, outcome.rows)
        if outcome.operation_id is None:
            return False
        tasks.enqueue(outcome.operation_id, outcome.kind)
        return True

    def cancel(self, run: Run) -> None:
        """Skip what is left, cancel operations still in flight, stop every job the run started."""
        db = get_db()
        with transaction(db):
            skipped = store.cancel_pending(db, run.id, "cancelled")
        started: dict[str, list[str]] = {}
        for status in ("running", "done"):
            for row in store.rows_with(db, run.id, status):
                if status == "running":
                    if row.operation_id:
                        ops_db.request_cancel(db, row.operation_id)
                    with transaction(db):
                        store.settle(db, run.id, row.seq, "failed", "cancelled with the profile")
                if row.action == "start" and row.operation_id and row.unit not in started.get(row.job, []):
                    started.setdefault(row.job, []).append(row.unit)
        for job, units in started.items():
            op = submit(
                "job.stop",
                {"experiment": run.experiment, "job": job},
                units,
                "profile",
                requested_by=f"profile:{run.id}",
            )
            ops_db.add_line(db, run.id, "warning", f"stopping {job} on {', '.join(units)}: operation {op.id}")
        ops_db.add_line(
            db,
            run.id,
            "warning",
            f"Stopping profile early: {skipped} action(s) not started; stopping started jobs.",
        )
        self._steps(run, "cancelled")
        ops_db.finish(db, run.id, "cancelled", "cancelled")
        self.runs.pop(run.id, None)

    def finish(self, run: Run, counts: dict[str, int]) -> None:
        db = get_db()
        failed = counts.get("failed", 0)
        status = "succeeded" if not failed else "partial"
        self._steps(run, status)
        ops_db.add_line(
            db,
            run.id,
            "info" if not failed else "warning",
            f"Finished executing {'DRY-RUN of ' if run.dry_run else ''}profile "
            f"{run.profile.experiment_profile_name}: {counts.get('done', 0)} done, "
            f"{counts.get('skipped', 0)} skipped, {failed} failed.",
        )
        ops_db.finish(db, run.id, status, status)
        self.runs.pop(run.id, None)

    def _steps(self, run: Run, status: str) -> None:
        db = get_db()
        failed_units = {
            r[0]
            for r in db.execute(
                "SELECT DISTINCT unit FROM profile_plan WHERE run_id = ? AND status = 'failed'", (run.id,)
            )
        }
        for step in ops_db.get(db, run.id).steps:
            ok = step.unit not in failed_units and status != "cancelled"
            ops_db.set_step(db, run.id, step.unit, "ok" if ok else "failed", status)

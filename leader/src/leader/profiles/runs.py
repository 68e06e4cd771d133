"""Start a profile run: validate the saved profile, plan its first rows and store them with the `profile.run`
operation in one transaction (the driver never sees a run without its rows), then enqueue it.

Used by `POST /api/experiments/<exp>/profiles/<name>/run` and by schedules whose action is `profile.run`.
"""

from __future__ import annotations

import sqlite3
import time
from typing import NamedTuple

from cluster_schema.errors import ApiError, BadRequest
from cluster_schema.leader import Operation
from cluster_schema.profiles import Diagnostic, InvalidProfile, Profile

from .. import tasks
from ..db import experiments as exp_db
from ..db import labels, transaction
from ..db import operations as ops_db
from ..db import profiles as store
from ..db import units as units_db
from . import plan as planner
from .validate import Result, load

KIND = "profile.run"


class Started(NamedTuple):
    operation: Operation
    warnings: list[Diagnostic]  # also the run's first lines; the 202 answer says them too


class ProfileInvalid(BadRequest):
    code = "invalid_profile"

    def __init__(self, diagnostics: list[Diagnostic]) -> None:
        first = next(d for d in diagnostics if d.severity == "error")
        where = f" (at `{first.path}`)" if first.path else ""
        super().__init__(f"Invalid profile: {first.message}{where}")
        self.diagnostics = diagnostics

    def body(self) -> InvalidProfile:  # type: ignore[override]
        return InvalidProfile(error=self.code, message=self.message, diagnostics=self.diagnostics)


def valid(text: str) -> Result:
    result = load(text)
    if not result.ok:
        raise ProfileInvalid(result.diagnostics)
    return result


def start(
    db: sqlite3.Connection, exp: str, name: str, *, dry_run: bool, trigger: str, requested_by: str
) -> Started:
    exp_db.get(db, exp)  # 404 for an unknown experiment
    text = store.get_yaml(db, name)
    profile = valid(text).profile
    assert profile is not None
    assigned = exp_db.assigned_units(db, exp)
    active = set(units_db.active_names(db))
    started = time.time()
    common = [u for u in assigned if u in active]
    rows, warnings = planner.plan(profile, started, common, assigned, experiment=exp)
    targets = sorted({r.unit for r in rows})
    params = {"experiment": exp, "profile": name, "dry_run": dry_run, "started": started, "yaml": text}
    with transaction(db):
        op = ops_db.create(db, KIND, params, targets, trigger, requested_by)
        store.add_rows(db, op.id, rows)
        for w in warnings:
            ops_db.add_line(db, op.id, "warning", f"{w.message} ({w.path})")
        if not dry_run:
            _labels(db, op.id, exp, profile, set(assigned))
    tasks.enqueue(op.id, KIND)
    return Started(ops_db.get(db, op.id), warnings)


def _labels(db: sqlite3.Connection, run_id: str, exp: str, profile: Profile, assigned: set[str]) -> None:
    """`pioreactors.<unit>.label` becomes the unit's label in the experiment (as Pioreactor pushes it);
    a label refused (taken by another unit) is a warning, as the real runner swallows it."""
    for unit, block in profile.pioreactors.items():
        if block.label is None or unit not in assigned:
            continue
        try:
            labels.put(db, exp, unit, block.label)
            ops_db.add_line(db, run_id, "info", f"{unit} labelled {block.label!r}", unit)
        except ApiError as exc:
            ops_db.add_line(db, run_id, "warning", f"label {block.label!r} for {unit}: {exc.message}", unit)

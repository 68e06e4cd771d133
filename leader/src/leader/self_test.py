"""A unit's latest self-test, read from what the ingest stored of `pioreactor/<unit>/$experiment/self_test/…`
(job_states for `$state`, topic_values for each check) and from the latest `unit.self_test` operation.

A run starts when the self-test's state enters init/ready from anything else; an outcome counts only if it
arrived after that (real pio also clears each check at the start, but a lost clear must not show last
run's result as this run's). Checks are listed in real pio's order, then any other `test_*` seen (a
plugin's own checks).
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime

import msgspec

from cluster_schema.errors import Conflict
from cluster_schema.leader import FINISHED
from cluster_schema.self_test import (
    SELF_TEST_JOB,
    UNIVERSAL_EXPERIMENT,
    CheckStatus,
    SelfTest,
    SelfTestCheck,
    Verdict,
)

from .db import activity
from .db import operations as ops_db
from .db.job_states import RUNNING_STATES
from .db.logs import level_number

KIND = "unit.self_test"
VERDICT = "all_tests_passed"
# real pio 26.11.1's built-in checks, in its order, with what each one checks in words
CHECKS: dict[str, str] = {
    "test_pioreactor_HAT_present": "HAT is connected",
    "test_all_positive_correlations_between_pds_and_leds": "Photodiodes respond to the IR LED",
    "test_ambient_light_interference": "Little ambient light reaches the photodiodes",
    "test_dark_offset_correction_is_effective": "Dark offset correction works",
    "test_REF_is_lower_than_0_dot_256_volts": "Reference photodiode reads in range",
    "test_REF_is_in_correct_position": "Reference photodiode sits in the REF position",
    "test_PD_is_near_0_volts_for_blank": "Photodiodes read near zero for a blank",
    "test_detect_heating_pcb": "Heating PCB is detected",
    "test_positive_correlation_between_temperature_and_heating": "Heater warms the vial",
    "test_positive_correlation_between_rpm_and_stirring": "Stirring speed follows its duty cycle",
    "test_aux_power_is_not_too_high": "Aux power voltage is at most 18 V",
}
OPTIONAL = {"test_camera_capture": "Camera captures an image"}  # only when the unit has a camera
# real pio refuses to start while any of these runs (the checks drive the LEDs, stirring and heater)
BLOCKING_JOBS = ("od_reading", "temperature_automation", "stirring", "dosing_automation", "led_automation")
_json = msgspec.json.Decoder()


def check_idle(db: sqlite3.Connection, units: list[str]) -> None:
    """409 naming what runs where, before anything reaches a unit (pio would refuse it anyway)."""
    busy = []
    for unit in units:
        jobs = sorted({job for _, job, _ in activity.running_on_unit(db, unit) if job in BLOCKING_JOBS})
        if jobs:
            busy.append(f"{', '.join(jobs)} on {unit}")
    if busy:
        raise Conflict(
            f"Stop {'; '.join(busy)} first: the self-test drives the LEDs, stirring and heater itself.",
            code="jobs_running",
        )


def title(name: str) -> str:
    known = CHECKS.get(name) or OPTIONAL.get(name)
    return known or name.removeprefix("test_").replace("_", " ").capitalize()


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _epoch(iso: str) -> float:
    return datetime.fromisoformat(iso).timestamp()


def _run(db: sqlite3.Connection, unit: str) -> tuple[str | None, float | None, float | None]:
    """(state now, when the latest run started, when the state last changed)."""
    row = db.execute(
        "SELECT state, updated_at FROM job_states WHERE unit = ? AND experiment = ? AND job = ?",
        (unit, UNIVERSAL_EXPERIMENT, SELF_TEST_JOB),
    ).fetchone()
    if row is None:
        return None, None, None
    marks = ",".join("?" * len(RUNNING_STATES))
    started = db.execute(
        "SELECT max(at) FROM job_state_transitions WHERE unit = ? AND experiment = ? AND job = ? "  # noqa: S608
        f"AND to_state IN ({marks}) AND (from_state IS NULL OR from_state NOT IN ({marks}))",
        (unit, UNIVERSAL_EXPERIMENT, SELF_TEST_JOB, *RUNNING_STATES, *RUNNING_STATES),
    ).fetchone()[0]
    return row[0], started, row[1]


def read(db: sqlite3.Connection, unit: str) -> SelfTest:
    state, started, changed = _run(db, unit)
    running = state in RUNNING_STATES
    outcomes: dict[str, tuple[object, float]] = {}
    for setting, value, at in db.execute(
        "SELECT setting, value, updated_at FROM topic_values WHERE unit = ? AND experiment = ? AND job = ?",
        (unit, UNIVERSAL_EXPERIMENT, SELF_TEST_JOB),
    ):
        if started is not None and at >= started:
            outcomes[setting] = (_json.decode(value), at)
    names = list(CHECKS) + sorted(n for n in outcomes if n.startswith("test_") and n not in CHECKS)
    checks = []
    for name in names:
        value, at = outcomes.get(name, (None, None))
        status: CheckStatus = (
            "passed" if value == 1 else "failed" if value == 0 else "pending" if running else "not_run"
        )
        checks.append(SelfTestCheck(name=name, title=title(name), status=status, at=_iso(at) if at else None))
    answer = SelfTest(
        unit=unit,
        verdict=_verdict(state, outcomes.get(VERDICT, (None, 0.0))[0], started is not None),
        started_at=_iso(started) if started is not None else None,
        finished_at=_iso(changed) if changed is not None and not running and started is not None else None,
        passed=sum(c.status == "passed" for c in checks),
        failed=sum(c.status == "failed" for c in checks),
        checks=checks,
    )
    if started is not None and answer.failed:
        _reasons(db, unit, started, [c for c in checks if c.status == "failed"])
    _with_operation(db, answer, started)
    return answer


REASON_SLACK = 5.0  # seconds: a log's time is the unit's clock, the run's start the leader's
REASON_MAX = 300


def _reasons(db: sqlite3.Connection, unit: str, started: float, failed: list[SelfTestCheck]) -> None:
    """pio logs a failed check as WARNING "<its name with spaces>: <why>"; that is its reason."""
    rows = db.execute(
        "SELECT message FROM logs WHERE unit = ? AND experiment = ? AND job = ? AND level >= ? AND ts >= ? "
        "ORDER BY ts",
        (unit, UNIVERSAL_EXPERIMENT, SELF_TEST_JOB, level_number("warning"), (started - REASON_SLACK) * 1000),
    ).fetchall()
    for check in failed:
        head = check.name.replace("_", " ") + ": "
        said = [m[len(head) :] for (m,) in rows if m.startswith(head)]
        if said:
            check.reason = said[-1][:REASON_MAX]


def _verdict(state: str | None, all_passed: object, seen: bool) -> Verdict:
    if not seen:
        return "never"
    if state in RUNNING_STATES:
        return "running"
    if all_passed in (0, 1):
        return "passed" if all_passed == 1 else "failed"
    return "stopped"


def _with_operation(db: sqlite3.Connection, answer: SelfTest, started: float | None) -> None:
    """The latest request to start one; while it is newer than the run the unit reported, it is the news."""
    latest = activity.operations(db, kind=KIND, unit=answer.unit, limit=1)
    if not latest:
        return
    op = latest[0]
    answer.operation_id, answer.operation_status = op.id, op.status
    step = next((s for s in ops_db.get(db, op.id).steps if s.unit == answer.unit), None)
    answer.operation_detail = step.detail if step is not None else None
    if started is not None and _epoch(op.created_at) <= started:
        return  # the unit has reported on (at least) this request
    if op.status in FINISHED and op.status != "succeeded":
        answer.verdict = "stopped"
    elif answer.verdict != "running":
        answer.verdict = "starting"
        for check in answer.checks:
            check.status, check.at = "pending", None
        answer.passed = answer.failed = 0

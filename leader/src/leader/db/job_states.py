"""Job states and published settings ingested from MQTT, and the running jobs read from them.

`running_jobs(conn, experiment)` answers GET `/api/experiments/<exp>/jobs/running` from the store alone
(no fan-out to the units): a job runs while its last published `$state` is init, ready or sleeping.
A job's `lost` (its process vanished, said by its last will) is a job state; an agent being offline is
presence (`leader.db.presence`) - two different facts.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterable, Iterator
from typing import Any

import msgspec

from cluster_schema.leader import JobState, RunningJob

RUNNING_STATES = ("init", "ready", "sleeping")
_json = msgspec.json.Decoder()


def _iso(ts: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ts)) + f".{int(ts % 1 * 1000):03d}Z"


def apply_states(conn: sqlite3.Connection, rows: Iterable[tuple[str, str, str, str, float]]) -> None:
    """Rows (unit, experiment, job, state, at) in arrival order; a repeated state is not a transition."""
    for unit, exp, job, state, at in rows:
        cur = conn.execute(
            "SELECT state FROM job_states WHERE unit = ? AND experiment = ? AND job = ?", (unit, exp, job)
        ).fetchone()
        previous = cur[0] if cur else None
        if previous == state:
            continue
        conn.execute(
            "INSERT INTO job_state_transitions (unit, experiment, job, from_state, to_state, at) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (unit, exp, job, previous, state, at),
        )
        conn.execute(
            "INSERT INTO job_states (unit, experiment, job, state, updated_at) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT (unit, experiment, job) DO UPDATE SET state = excluded.state, "
            "updated_at = excluded.updated_at",
            (unit, exp, job, state, at),
        )


def apply_settings(
    conn: sqlite3.Connection, rows: Iterable[tuple[str, str, str, str, str | None, float]]
) -> None:
    """Rows (unit, experiment, job, setting, JSON value or None to clear, at)."""
    for unit, exp, job, setting, value, at in rows:
        if value is None:
            conn.execute(
                "DELETE FROM job_settings WHERE unit = ? AND experiment = ? AND job = ? AND setting = ?",
                (unit, exp, job, setting),
            )
        else:
            conn.execute(
                "INSERT INTO job_settings (unit, experiment, job, setting, value, updated_at) "
                "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (unit, experiment, job, setting) "
                "DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
                (unit, exp, job, setting, value, at),
            )


def apply_values(
    conn: sqlite3.Connection, rows: Iterable[tuple[str, str, str, str, str | None, float]]
) -> None:
    """The last value of every `<job>/<setting>` topic (descriptor or not): rows as `apply_settings`.
    Profile expressions look them up (`unit1:od_reading:od1.od`), as does the vial volume (leader.vial)."""
    for unit, exp, job, setting, value, at in rows:
        if value is None:
            conn.execute(
                "DELETE FROM topic_values WHERE unit = ? AND experiment = ? AND job = ? AND setting = ?",
                (unit, exp, job, setting),
            )
        else:
            conn.execute(
                "INSERT INTO topic_values (unit, experiment, job, setting, value, updated_at) "
                "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (unit, experiment, job, setting) "
                "DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
                (unit, exp, job, setting, value, at),
            )


def last_value(conn: sqlite3.Connection, unit: str, experiment: str, job: str, setting: str) -> Any:
    """The last value seen on `pioreactor/<unit>/<experiment>/<job>/<setting>` (`$state` included), as
    JSON-decoded; LookupError when none was seen (or the job cleared it)."""
    if setting == "$state":
        row = conn.execute(
            "SELECT state FROM job_states WHERE unit = ? AND experiment = ? AND job = ?",
            (unit, experiment, job),
        ).fetchone()
        if row is None:
            raise LookupError(setting)
        return row[0]
    row = conn.execute(
        "SELECT value FROM topic_values WHERE unit = ? AND experiment = ? AND job = ? AND setting = ?",
        (unit, experiment, job, setting),
    ).fetchone()
    if row is None:
        raise LookupError(setting)
    return _json.decode(row[0])


def running_jobs(conn: sqlite3.Connection, experiment: str) -> list[RunningJob]:
    """Jobs of the experiment whose state is init, ready or sleeping, with their published settings."""
    jobs = conn.execute(
        "SELECT unit, job, state FROM job_states WHERE experiment = ? AND state IN (?, ?, ?) "
        "ORDER BY unit, job",
        (experiment, *RUNNING_STATES),
    ).fetchall()
    settings: dict[tuple[str, str], dict[str, Any]] = {}
    for unit, job, setting, value in conn.execute(
        "SELECT unit, job, setting, value FROM job_settings WHERE experiment = ?", (experiment,)
    ):
        settings.setdefault((unit, job), {})[setting] = _json.decode(value)
    return [
        RunningJob(
            unit=unit,
            job_name=job,
            experiment=experiment,
            state=state,
            settings=settings.get((unit, job), {}),
        )
        for unit, job, state in jobs
    ]


def states(conn: sqlite3.Connection, experiment: str) -> list[JobState]:
    """The last state of every job ever seen in the experiment (running or not)."""
    return [
        JobState(unit=u, experiment=experiment, job=j, state=s, timestamp=_iso(at))
        for u, j, s, at in conn.execute(
            "SELECT unit, job, state, updated_at FROM job_states WHERE experiment = ? ORDER BY unit, job",
            (experiment,),
        )
    ]


def transitions_for_export(
    conn: sqlite3.Connection, experiment: str, since: float | None = None, until: float | None = None
) -> Iterator[tuple[Any, ...]]:
    """(epoch seconds, unit, job, from_state, to_state), oldest first, in [since, until)."""
    for at, unit, job, from_state, to_state in conn.execute(
        "SELECT at, unit, job, from_state, to_state FROM job_state_transitions WHERE experiment = ? "
        "AND at >= ? AND at < ? ORDER BY at, id",
        (experiment, -1.0 if since is None else since, 1e18 if until is None else until),
    ):
        yield (at, unit, job, from_state or "", to_state)


def settings_for_export(conn: sqlite3.Connection, experiment: str) -> Iterator[tuple[Any, ...]]:
    """(unit, job, setting, JSON value, epoch seconds updated) of the experiment's current settings."""
    yield from conn.execute(
        "SELECT unit, job, setting, value, updated_at FROM job_settings WHERE experiment = ? "
        "ORDER BY unit, job, setting",
        (experiment,),
    )

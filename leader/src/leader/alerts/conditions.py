"""What is wrong right now, read from the store: one `Condition` per key.

A condition present in one evaluation and absent in the next is resolved by the evaluator; so each function
here answers the whole current set for its kind. Presence `offline` and `lost` (the agent's last will) both
count as not online.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
from dataclasses import dataclass, field
from typing import Any

from cluster_schema.alerts import BuiltinRules, ThresholdRule


@dataclass(frozen=True)
class Condition:
    kind: str
    severity: str
    summary: str
    details: dict[str, Any] = field(default_factory=dict)


def units_offline(db: sqlite3.Connection, after_s: float, now: float) -> dict[str, Condition]:
    if after_s <= 0:
        return {}
    out = {}
    for unit, status, changed_at in db.execute(
        "SELECT u.name, p.status, p.changed_at FROM units u JOIN presence p ON p.unit = u.name "
        "WHERE u.removed_at IS NULL AND u.active = 1 AND p.status IN ('offline', 'lost') "
        "AND p.changed_at <= ?",
        (now - after_s,),
    ):
        out[f"unit_offline:{unit}"] = Condition(
            "unit_offline",
            "critical",
            f"Unit {unit} is {status} for {now - changed_at:.0f} s",
            {"unit": unit, "presence": status, "since": changed_at},
        )
    return out


def jobs_lost(db: sqlite3.Connection) -> dict[str, Condition]:
    out = {}
    for unit, exp, job, at in db.execute(
        "SELECT j.unit, j.experiment, j.job, j.updated_at FROM job_states j JOIN units u ON u.name = j.unit "
        "WHERE u.removed_at IS NULL AND j.state = 'lost'"
    ):
        out[f"job_lost:{unit}/{exp}/{job}"] = Condition(
            "job_lost",
            "warning",
            f"Job {job} on {unit} (experiment {exp}) is lost",
            {"unit": unit, "experiment": exp, "job": job, "since": at},
        )
    return out


def ingest_stalled(db: sqlite3.Connection, after_s: float, now: float) -> dict[str, Condition]:
    """No live message from any unit for `after_s` while at least one active unit is online."""
    if after_s <= 0:
        return {}
    online, last = db.execute(
        "SELECT sum(p.status = 'online'), max(p.last_seen) FROM presence p JOIN units u ON u.name = p.unit "
        "WHERE u.removed_at IS NULL AND u.active = 1"
    ).fetchone()
    if not online or last is None or now - last < after_s:
        return {}
    return {
        "ingest_stalled": Condition(
            "ingest_stalled",
            "critical",
            f"No message from any unit for {now - last:.0f} s while {online} unit(s) are online",
            {"last_message": last, "online_units": online},
        )
    }


def disk_full(database: str, max_percent: float) -> dict[str, Condition]:
    if max_percent <= 0:
        return {}
    folder = os.path.dirname(os.path.abspath(database))
    try:
        usage = shutil.disk_usage(folder)
    except OSError:
        return {}
    used = 100.0 * (usage.total - usage.free) / usage.total if usage.total else 0.0
    if used <= max_percent:
        return {}
    return {
        "disk_full": Condition(
            "disk_full",
            "critical",
            f"The leader's disk is {used:.1f}% full (limit {max_percent:g}%)",
            {"path": folder, "used_percent": round(used, 2), "free_bytes": usage.free},
        )
    }


def thresholds(db: sqlite3.Connection, rules: list[ThresholdRule], now: float) -> dict[str, Condition]:
    """Per rule and unit: the latest reading crosses the threshold and every reading since the first
    crossing after the last good one does too, for at least `hold_seconds`."""
    out = {}
    for rule in rules:
        bad = "value > ?" if rule.op == ">" else "value < ?"
        window = now - max(3600.0, 2 * rule.hold_seconds)
        args = (rule.series, rule.experiment)
        rows = db.execute(
            "WITH latest AS (SELECT unit, max(ts) AS ts FROM readings WHERE series = ? AND experiment = ? "  # noqa: S608
            "  AND ts > ? GROUP BY unit), "
            "good AS (SELECT unit, max(ts) AS ts FROM readings WHERE series = ? AND experiment = ? "
            f"  AND ts > ? AND NOT ({bad}) GROUP BY unit) "
            "SELECT l.unit, l.ts, r.value, "
            "  (SELECT min(ts) FROM readings b WHERE b.series = ? AND b.experiment = ? AND b.unit = l.unit "
            "   AND b.ts > coalesce(g.ts, ?)) AS first_bad "
            "FROM latest l JOIN readings r ON r.series = ? AND r.experiment = ? AND r.unit = l.unit "
            "  AND r.ts = l.ts LEFT JOIN good g ON g.unit = l.unit",
            (*args, window, *args, window, rule.value, *args, window, *args),
        ).fetchall()
        for unit, ts, value, first_bad in rows:
            crossed = value > rule.value if rule.op == ">" else value < rule.value
            if not crossed or first_bad is None or now - first_bad < rule.hold_seconds:
                continue
            out[f"threshold:{rule.id}:{unit}"] = Condition(
                "threshold",
                "warning",
                f"{rule.series} on {unit} (experiment {rule.experiment}) is {value:g}, {rule.op} "
                f"{rule.value:g} for {now - first_bad:.0f} s",
                {
                    "rule": rule.id,
                    "unit": unit,
                    "experiment": rule.experiment,
                    "series": rule.series,
                    "op": rule.op,
                    "threshold": rule.value,
                    "value": value,
                    "since": first_bad,
                    "reading_at": ts,
                },
            )
    return out


def current(
    db: sqlite3.Connection, builtin: BuiltinRules, rules: list[ThresholdRule], database: str, now: float
) -> dict[str, Condition]:
    found = units_offline(db, builtin.unit_offline_after_s, now)
    if builtin.job_lost:
        found |= jobs_lost(db)
    found |= ingest_stalled(db, builtin.ingest_stalled_after_s, now)
    found |= disk_full(database, builtin.disk_used_max_percent)
    found |= thresholds(db, rules, now)
    return found


def failed_operations(db: sqlite3.Connection, since: str) -> list[tuple[str, Condition]]:
    """Operations that finished failed or partial at or after `since` (one-off events, keyed by id: an
    operation seen twice is recorded once)."""
    out = []
    for op_id, kind, status, finished_at, _targets in db.execute(
        "SELECT id, kind, status, finished_at, targets FROM operations "
        "WHERE status IN ('failed', 'partial') AND finished_at >= ? ORDER BY finished_at",
        (since,),
    ):
        failed = [
            r[0]
            for r in db.execute(
                "SELECT unit FROM operation_steps WHERE operation_id = ? AND status = 'failed' ORDER BY unit",
                (op_id,),
            )
        ]
        out.append(
            (
                f"operation:{op_id}",
                Condition(
                    "operation_failed",
                    "warning",
                    f"Operation {kind} {status}" + (f" (failed on {', '.join(failed)})" if failed else ""),
                    {
                        "operation": op_id,
                        "kind": kind,
                        "status": status,
                        "finished_at": finished_at,
                        "failed_units": failed,
                    },
                ),
            )
        )
    return out

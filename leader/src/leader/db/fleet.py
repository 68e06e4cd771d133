"""Each unit's latest versions and health (table `unit_status`), written by the ingest and the fleet check.

Clock offset: `agent utc - leader time at arrival`, from live heartbeats only. The agent stamps its clock
just before publishing; the leader stamps arrival when the ingest's network thread receives it. So the
measured offset is the true offset minus the one-way delivery delay (agent -> broker -> leader), which is
never negative: true offset is within [measured, measured + delay]. On a LAN the delay is a few
milliseconds (the publish is QoS 1, not batched on the agent), so the error bound is well under 0.1 s —
far below the 2 s the units page flags. One exception: heartbeats the broker queued for the ingest's
persistent session while the leader worker was down arrive late, so right after such an outage an
offset may read too negative until the next live heartbeat (at most one interval later) replaces it.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterable
from typing import NamedTuple

import msgspec

from cluster_schema.fleet import UnitHealth, UnitVersions

_encode = msgspec.json.Encoder().encode

# Epoch seconds become ISO 8601 UTC with milliseconds and Z in SQL (NULL stays NULL).
_STATUS_SQL = (
    "SELECT unit, agent, pio, python, schema, strftime('%Y-%m-%dT%H:%M:%fZ', versions_at, 'unixepoch'),"
    " heartbeat_at, interval, disk_free, disk_total, memory_free, memory_total, running_jobs, worker_alive,"
    " clock_offset, strftime('%Y-%m-%dT%H:%M:%fZ', clock_at, 'unixepoch'),"
    " strftime('%Y-%m-%dT%H:%M:%fZ', heartbeat_at, 'unixepoch')"
    " FROM unit_status WHERE unit IN (SELECT value FROM json_each(?))"
)

# A heartbeat missing for this many intervals means the agent's worker is not alive.
STALE_INTERVALS = 3


class StatusRow(NamedTuple):
    unit: str
    agent: str
    pio: str
    python: str
    schema: int
    received_at: float
    interval: float
    disk_free: int | None
    disk_total: int | None
    memory_free: int | None
    memory_total: int | None
    running_jobs: int
    worker_alive: bool
    clock_offset: float | None  # None: retained (old news), no clock measurement


def apply_status(conn: sqlite3.Connection, rows: Iterable[StatusRow]) -> None:
    """Store heartbeats (the ingest's batch transaction). A retained one updates versions and health but
    neither the heartbeat time nor the clock: it may be hours old."""
    conn.executemany(
        "INSERT INTO unit_status (unit, agent, pio, python, schema, versions_at, versions_source,"
        " heartbeat_at, interval, disk_free, disk_total, memory_free, memory_total, running_jobs,"
        " worker_alive, clock_offset, clock_at)"
        " VALUES (?, ?, ?, ?, ?, ?, 'mqtt', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (unit) DO UPDATE SET agent = excluded.agent, pio = excluded.pio,"
        " python = excluded.python, schema = excluded.schema, versions_at = excluded.versions_at,"
        " versions_source = 'mqtt', interval = excluded.interval, disk_free = excluded.disk_free,"
        " disk_total = excluded.disk_total, memory_free = excluded.memory_free,"
        " memory_total = excluded.memory_total, running_jobs = excluded.running_jobs,"
        " worker_alive = excluded.worker_alive,"
        " heartbeat_at = coalesce(excluded.heartbeat_at, heartbeat_at),"
        " clock_offset = coalesce(excluded.clock_offset, clock_offset),"
        " clock_at = coalesce(excluded.clock_at, clock_at)",
        [
            (
                r.unit,
                r.agent,
                r.pio,
                r.python,
                r.schema,
                r.received_at,
                None if r.clock_offset is None else r.received_at,
                r.interval,
                r.disk_free,
                r.disk_total,
                r.memory_free,
                r.memory_total,
                r.running_jobs,
                int(r.worker_alive),
                r.clock_offset,
                None if r.clock_offset is None else r.received_at,
            )
            for r in rows
        ],
    )


def store_versions(conn: sqlite3.Connection, unit: str, versions: UnitVersions, at: float) -> None:
    """The fleet check's answer from `/unit_api/versions` (HTTP): versions only."""
    conn.execute(
        "INSERT INTO unit_status (unit, agent, pio, python, schema, versions_at, versions_source)"
        " VALUES (?, ?, ?, ?, ?, ?, 'http') ON CONFLICT (unit) DO UPDATE SET agent = excluded.agent,"
        " pio = excluded.pio, python = excluded.python, schema = excluded.schema,"
        " versions_at = excluded.versions_at, versions_source = 'http'",
        (unit, versions.agent, versions.pio, versions.python, versions.schema, at),
    )


def stale(conn: sqlite3.Connection, units: list[str], older_than: float) -> list[str]:
    """Of `units`, those with no versions or versions older than the epoch time `older_than`."""
    fresh = {
        r[0]
        for r in conn.execute(
            "SELECT unit FROM unit_status WHERE versions_at >= ?"
            " AND unit IN (SELECT value FROM json_each(?))",
            (older_than, _json_list(units)),
        )
    }
    return [u for u in units if u not in fresh]


def _json_list(items: list[str]) -> str:
    return _encode(items).decode()


class Fleet(NamedTuple):
    versions: UnitVersions | None
    versions_checked_at: str | None
    health: UnitHealth | None


def status_for(conn: sqlite3.Connection, units: list[str], now: float | None = None) -> dict[str, Fleet]:
    """The fleet fields of `/api/units` for the named units (one query; times formatted by SQLite, which
    is several times cheaper than Python's strftime for 100 units x 3 stamps)."""
    now = time.time() if now is None else now
    out: dict[str, Fleet] = {}
    for r in conn.execute(
        _STATUS_SQL,
        (_json_list(units),),
    ):
        versions = UnitVersions(agent=r[1], pio=r[2], python=r[3], schema=r[4]) if r[1] is not None else None
        health = None
        if r[6] is not None or r[8] is not None:
            beat, interval = r[6], r[7] or 30.0
            # unknown (None) until a live heartbeat arrives: after a leader restart only retained ones have
            alive = None if beat is None else bool(r[13]) and now - beat <= STALE_INTERVALS * interval
            health = UnitHealth(
                disk_free_bytes=r[8],
                disk_total_bytes=r[9],
                memory_free_bytes=r[10],
                memory_total_bytes=r[11],
                running_jobs=r[12],
                worker_alive=alive,
                heartbeat_at=r[16],
                clock_offset_s=None if r[14] is None else round(r[14], 3),
                clock_checked_at=r[15],
            )
        out[r[0]] = Fleet(versions, r[5], health)
    return out

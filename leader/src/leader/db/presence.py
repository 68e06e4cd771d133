"""Unit presence: the agent's own retained `online` / last-will `offline` (or `lost`), and last seen.

`presence_for(conn, units)` gives the `presence` and `last_seen` fields of `/api/units`: presence is
`online`, `offline` (the agent said goodbye), `lost` (its last will fired: it vanished without a goodbye)
or `unknown` (never heard of);
`last_seen` is the time of the latest live (not retained) message from the unit on any ingested topic, or
the time stamped in the agent's `online` message (retained or not: it says when the agent was there).
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterable, Mapping

import msgspec

_encode = msgspec.json.Encoder().encode


class UnitPresence(msgspec.Struct, frozen=True):
    presence: str  # online | offline | lost | unknown (the contract's values)
    last_seen: str | None
    status: str | None  # as the agent published it: online | offline | lost


UNKNOWN = UnitPresence("unknown", None, None)


def _iso(ts: float | None) -> str | None:
    if ts is None:
        return None
    ms = round(ts * 1000)  # round once: truncating ts % 1 turns .895 into .894
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms // 1000)) + f".{ms % 1000:03d}Z"


def apply_presence(conn: sqlite3.Connection, rows: Iterable[tuple[str, str, float, float | None]]) -> None:
    """Rows (unit, status, at, the message's own timestamp or None: see `touch` for that one)."""
    conn.executemany(
        "INSERT INTO presence (unit, status, changed_at) VALUES (?, ?, ?) ON CONFLICT (unit) "
        "DO UPDATE SET status = excluded.status, changed_at = excluded.changed_at",
        [r[:3] for r in rows],
    )


def touch(conn: sqlite3.Connection, seen: Mapping[str, float]) -> None:
    """Advance last_seen for each unit to its newest live message (never backwards).

    One statement for all units (like leader.db.logs.insert_many): the ingest calls this per batch.
    """
    conn.execute(
        "INSERT INTO presence (unit, last_seen) SELECT key, value FROM json_each(?) WHERE true "
        "ON CONFLICT (unit) DO UPDATE SET last_seen = max(coalesce(last_seen, 0), excluded.last_seen)",
        (_encode(dict(seen)),),
    )


def presence_for(conn: sqlite3.Connection, units: Iterable[str]) -> dict[str, UnitPresence]:
    """Presence of each named unit (`unknown` for a unit never heard from)."""
    names = list(units)
    out = dict.fromkeys(names, UNKNOWN)
    for i in range(0, len(names), 500):
        chunk = names[i : i + 500]
        marks = ",".join("?" * len(chunk))
        for unit, status, last_seen in conn.execute(
            f"SELECT unit, status, last_seen FROM presence WHERE unit IN ({marks})",  # noqa: S608
            chunk,
        ):
            presence = status if status in ("online", "offline", "lost") else "unknown"
            out[unit] = UnitPresence(presence, _iso(last_seen), status)
    return out

"""Chart buckets: raw readings for short windows, the per-minute rollups once a bucket is a minute wide,
and the rollup buckets equal to the same buckets computed from the raw readings."""

from __future__ import annotations

import math
import sqlite3

import pytest

from leader.db import readings, transaction

T0 = 1_795_200_007.5  # not on a minute boundary: the windows below start mid-minute
STEP = 5.0
HOURS = 13


@pytest.fixture
def filled(db: sqlite3.Connection) -> sqlite3.Connection:
    rows = [
        ("od", "e1", "u1", T0 + i * STEP, math.sin(i / 37) + (3.0 if i % 211 == 0 else 0.0))
        for i in range(int(HOURS * 3600 / STEP))
    ]
    with transaction(db):
        readings.insert_many(db, rows)
    return db


def raw_reference(
    db: sqlite3.Connection, since: float, until: float, points: int
) -> list[list[float | None]]:
    """What the rollup buckets promise, computed from every raw reading in [since, until]: whole-minute
    buckets from the minute `since` falls in, `ceil(width / 60)` minutes each, the last one taking any
    remainder, the first one starting at `since`."""
    first = math.floor(since / 60)
    per = math.ceil((until - since) / points / 60)
    groups: dict[int, list[float]] = {}
    for ts, value in db.execute(
        "SELECT ts, value FROM readings WHERE ts >= ? AND ts <= ? ORDER BY ts", (since, until)
    ):
        b = min((math.floor(ts / 60) - first) // per, points - 1)
        groups.setdefault(b, []).append(value)
    return [
        [max(since, (first + b * per) * 60.0), sum(vs) / len(vs), min(vs), max(vs)]
        for b, vs in sorted(groups.items())
    ]


@pytest.mark.parametrize(("hours", "points"), [(12, 600), (24, 600), (12, 500), (2, 100), (6, 360)])
def test_rollup_buckets_equal_the_raw_ones(filled: sqlite3.Connection, hours: int, points: int) -> None:
    until = T0 + HOURS * 3600 - 1234.5
    since = until - hours * 3600
    got = readings.buckets(filled, "od", "e1", "u1", since, until, points)
    want = raw_reference(filled, since, until, points)
    assert 0 < len(got) <= points
    assert [row[0] for row in got] == [row[0] for row in want]
    for g, w in zip(got, want, strict=True):
        assert g[2] == w[2] and g[3] == w[3]  # peaks survive exactly
        assert g[1] == pytest.approx(w[1], rel=1e-9, abs=1e-12)
    assert any(row[3] > 2.0 for row in got)  # the injected spikes are some buckets' maxima


def test_bucket_width_chooses_the_table(filled: sqlite3.Connection) -> None:
    """Readings gone but rollups kept (the trigger only adds): what a query still finds says which table
    it read (the rollups for whole minutes; the two partial minutes at the ends come from the readings)."""
    until = T0 + 12 * 3600
    long_window = readings.buckets(filled, "od", "e1", "u1", until - 12 * 3600, until, 600)  # 72 s buckets
    short_window = readings.buckets(filled, "od", "e1", "u1", until - 3600, until, 600)  # 6 s: raw readings
    just_a_minute = readings.buckets(filled, "od", "e1", "u1", until - 36_000, until, 600)  # 60 s buckets
    assert short_window and long_window and just_a_minute
    with transaction(filled):
        filled.execute("DELETE FROM readings")
    for before, since in ((long_window, until - 12 * 3600), (just_a_minute, until - 36_000)):
        after = {row[0]: row for row in readings.buckets(filled, "od", "e1", "u1", since, until, 600)}
        assert len(before) > 300 and all(after[row[0]] == row for row in before[1:-1])
    assert readings.buckets(filled, "od", "e1", "u1", until - 3600, until, 600) == []
    below_a_minute = until - 35_999.0  # 59.998 s buckets: still the raw readings
    assert readings.buckets(filled, "od", "e1", "u1", below_a_minute, until, 600) == []


def test_short_window_with_few_readings_returns_them_as_read(filled: sqlite3.Connection) -> None:
    until = T0 + 3600
    rows = readings.buckets(filled, "od", "e1", "u1", until - 300, until, 100)
    assert len(rows) == 61 and all(r[1] == r[2] == r[3] for r in rows)
    assert rows[0][0] >= until - 300

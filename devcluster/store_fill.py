"""A leader's store for the benches and the docs' screenshots, filled straight through the leader's own db
modules, the rows as the ingest would have stored them: a million logs or days of readings in seconds.

    leader_app(folder, **settings) -> Flask
        A leader app (no server, no worker) on the store in `folder`, created and migrated when new.

    add_logs(db_path, n, message, seed=, synchronous=)
        `n` logs, log i at T0 + 50 i ms (20 logs/s across the cluster), so the row at any depth is found
        by its key; unit, experiment and job go round UNITS, three experiments and JOBS; the level is
        mostly debug/info; `message(i, rng)` gives each text.
    add_readings(db, rows) -> int
        Readings (series, experiment, unit, t, value) in the caller's transaction, BATCH rows a statement.
"""

from __future__ import annotations

import random
import sqlite3
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from flask import Flask

from leader import create_app
from leader.db import connect, logs, readings, transaction

BATCH = 20_000  # rows a statement: one JSON array each, large enough that the statement cost disappears
T0 = 1_790_000_000_000  # ms: the first log's time
UNITS = [f"unit{i:02d}" for i in range(10)]
JOBS = ["stirring", "od_reading", "growth_rate_calculating", "temperature_automation", "dosing_automation"]
LEVEL_WEIGHTS = (60, 30, 2, 6, 2)  # levels 0-4, as often as a running cluster logs them


def leader_app(folder: str | Path, **settings: Any) -> Flask:
    folder = Path(folder)
    config = {
        "SECRET_KEY": "bench-" + "k" * 40,
        "INSTANCE_PATH": str(folder),
        "DATABASE": str(folder / "leader.sqlite"),
        "HUEY_DB": str(folder / "huey.sqlite"),
        "CLUSTER_TOKEN_FILE": str(folder / "cluster_token"),
    }
    return create_app({**config, **settings})


def add_logs(
    db_path: str,
    n: int,
    message: Callable[[int, random.Random], str],
    *,
    seed: int,
    synchronous: str = "FULL",
) -> None:
    rng = random.Random(seed)  # noqa: S311 - made-up rows, the same on every run
    db = connect(db_path, synchronous)
    batch: list[tuple[Any, ...]] = []
    try:
        for i in range(n):
            text = message(i, rng)  # first: a message drawing from `rng` keeps the same draws as before
            level = rng.choices(range(5), weights=LEVEL_WEIGHTS)[0]
            where = (T0 + i * 50, UNITS[i % 10], f"exp{i % 3}", JOBS[i % 5], "app")
            batch.append((*where, level, text, rng.getrandbits(63), 1))
            if len(batch) == BATCH or i == n - 1:
                with transaction(db):
                    logs.insert_many(db, batch)
                batch = []
    finally:
        db.close()


def add_readings(db: sqlite3.Connection, rows: Sequence[tuple[Any, ...]]) -> int:
    for k in range(0, len(rows), BATCH):
        readings.insert_many(db, rows[k : k + BATCH])
    return len(rows)

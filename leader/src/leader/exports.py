"""Exports: chosen experiments (or all) and datasets, in a time range, as a zip of CSV files, written to
disk by the worker.

An export is an operation (kind `export`, no target units): POST /api/exports queues it, the worker
streams each dataset from the store into `EXPORTS_DIR/<operation id>.zip` (default `<instance>/exports`)
row by row, so neither memory nor a request is held for the minutes a large export may take; GET
/api/exports/<id> then serves the finished file. Datasets: `logs`, `job_states` (every transition),
`settings` (current published settings) and every chart key (its readings).

Time columns are ISO 8601 in the lab's zone (the TIMEZONE setting) with their offset, so a value is both
readable and unambiguous; `export.json` in the zip names the zone, the range and what was exported. The
range [since, until) applies to logs, job states and readings; `settings` are the current ones. Only CSV:
Parquet would need pyarrow, too heavy for a leader on a Raspberry Pi (a request for it is refused, 400).
"""

from __future__ import annotations

import contextlib
import csv
import functools
import io
import json
import logging
import os
import sqlite3
import time
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from flask import Flask
from huey import SqliteHuey

from cluster_schema.errors import BadRequest
from cluster_schema.leader import ExportRequest, parse_instant

from . import contrib
from .db import experiments as exp_db
from .db import get_db
from .db import job_states as job_states_db
from .db import logs as logs_db
from .db import operations as ops_db
from .db import readings as readings_db
from .tasks import register_task

log = logging.getLogger(__name__)

FORMATS = ("csv",)  # what this leader writes (the contract also names parquet)
KIND = "export"
FIXED = ("logs", "job_states", "settings")


class Cancelled(Exception):
    pass


def datasets(app: Flask) -> list[str]:
    return [*FIXED, *(c.key for c in contrib.charts(app.config["CONTRIB_DIR"]))]


def prune(folder: Path, keep_days: float) -> list[Path]:
    """Delete finished zips older than `keep_days` and `.part` files a crash left (older than an hour)."""
    now = time.time()
    removed = []
    for path in folder.glob("*.zip*"):
        limit = keep_days * 86400 if path.suffix == ".zip" else 3600
        with contextlib.suppress(OSError):
            if keep_days > 0 and now - path.stat().st_mtime > limit:
                path.unlink()
                removed.append(path)
    return removed


def path_of(app: Flask, op_id: str) -> Path:
    folder = app.config["EXPORTS_DIR"] or os.path.join(app.instance_path, "exports")
    return Path(folder) / f"{op_id}.zip"


@dataclass(frozen=True)
class Window:
    since: float | None  # epoch seconds, inclusive
    until: float | None  # exclusive
    zone: ZoneInfo

    def time(self, ts: float) -> str:
        return datetime.fromtimestamp(ts, self.zone).isoformat(timespec="milliseconds")


def _epoch(iso: str | None) -> float | None:
    return None if iso is None else datetime.fromisoformat(iso).timestamp()


def _rows(dataset: str, experiment: str, w: Window) -> tuple[list[str], Iterator[tuple[Any, ...]]]:
    db = get_db()
    if dataset == "logs":
        rows = logs_db.rows_for_export(db, experiment, w.since, w.until)
        return ["timestamp", "unit", "job", "source", "level", "message", "author"], (
            (w.time(r[0]), *r[1:]) for r in rows
        )
    if dataset == "job_states":
        rows = job_states_db.transitions_for_export(db, experiment, w.since, w.until)
        return ["timestamp", "unit", "job", "from_state", "to_state"], ((w.time(r[0]), *r[1:]) for r in rows)
    if dataset == "settings":
        rows = job_states_db.settings_for_export(db, experiment)
        return ["unit", "job", "setting", "value", "updated_at"], ((*r[:4], w.time(r[4])) for r in rows)
    rows = readings_db.rows_for_export(db, dataset, experiment, w.since, w.until)
    return ["unit", "timestamp", "value"], ((r[0], w.time(r[1]), r[2]) for r in rows)


def _write_csv(zf: zipfile.ZipFile, name: str, header: list[str], rows: Iterable[tuple[Any, ...]]) -> int:
    n = 0
    with zf.open(name, "w", force_zip64=True) as raw, io.TextIOWrapper(raw, "utf-8", newline="") as text:
        out = csv.writer(text)
        out.writerow(header)
        for row in rows:
            out.writerow(row)
            n += 1
    return n


def run(app: Flask, op_id: str) -> None:
    db = get_db()
    if not ops_db.mark_started(db, op_id):
        return
    op = ops_db.get(db, op_id)
    final = path_of(app, op_id)
    part = final.with_suffix(".zip.part")
    try:
        final.parent.mkdir(parents=True, exist_ok=True)
        for old in prune(final.parent, float(app.config["EXPORTS_KEEP_DAYS"])):
            log.info("export %s: removed expired %s", op_id, old.name)
        p = op.params
        window = Window(_epoch(p.get("since")), _epoch(p.get("until")), ZoneInfo(p.get("timezone") or "UTC"))
        with zipfile.ZipFile(part, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as zf:
            zf.writestr("export.json", json.dumps({"operation": op_id, **p}, indent=2))
            for experiment in p["experiments"]:
                for dataset in p["datasets"]:
                    if ops_db.status(db, op_id)[1]:
                        raise Cancelled
                    header, rows = _rows(dataset, experiment, window)
                    n = _write_csv(zf, f"{experiment}/{dataset}.csv", header, rows)
                    ops_db.add_line(db, op_id, "info", f"{experiment}/{dataset}.csv: {n} rows")
        part.rename(final)
    except Cancelled:
        part.unlink(missing_ok=True)
        ops_db.add_line(db, op_id, "warning", "cancelled; no file kept")
        ops_db.finish(db, op_id, "cancelled")
        return
    except Exception as exc:
        log.exception("export %s failed", op_id)
        with contextlib.suppress(OSError):
            part.unlink(missing_ok=True)
        ops_db.add_line(db, op_id, "error", f"export failed: {exc!r}")
        ops_db.finish(db, op_id, "failed")
        return
    ops_db.add_line(db, op_id, "info", f"ready: {final.stat().st_size} bytes at /api/exports/{op_id}")
    ops_db.finish(db, op_id, "succeeded")


def register(queue: SqliteHuey, app: Flask) -> None:
    """The worker's task; web processes enqueue it."""
    register_task(queue, app, "run_export", KIND, functools.partial(run, app))


def params(db: sqlite3.Connection, app: Flask, req: ExportRequest, datasets: list[str]) -> dict[str, Any]:
    """The operation's params, explicit: `all` becomes the experiments known now, `last_hours` a `since`
    (both as of submission), times UTC; the lab's zone for the time columns travels with them."""
    if req.experiments == "all":
        experiments = sorted(e.name for e in exp_db.list_experiments(db))
        if not experiments:
            raise BadRequest('No experiments to export at `$.experiments` ("all" found none).')
    else:
        experiments = list(dict.fromkeys(req.experiments))
    since = parse_instant(req.since, "$.since") if req.since is not None else None
    until = parse_instant(req.until, "$.until") if req.until is not None else None
    if req.last_hours is not None:
        since = datetime.now(UTC) - timedelta(hours=req.last_hours)

    def utc(t: datetime | None) -> str | None:
        return None if t is None else t.astimezone(UTC).isoformat(timespec="milliseconds")

    return {
        "experiments": experiments,
        "datasets": list(dict.fromkeys(datasets)),
        "since": utc(since),
        "until": utc(until),
        "last_hours": req.last_hours,
        "format": req.format,
        "timezone": app.config["TIMEZONE"],
    }

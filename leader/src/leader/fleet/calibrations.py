"""Calibrations across units: one unit's list, one calibration's curve (for a chart), unit x device coverage.

A calibration is Pioreactor's YAML (`curve_data_: {type: poly, coefficients: [...]}`, `x`, `y`,
`recorded_data: {x: [...], y: [...]}`), read from the agent's `/unit_api/calibrations/<device>`.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Awaitable, Callable
from typing import Any

import yaml

from cluster_schema.agent import Calibrations
from cluster_schema.errors import NotFound, UnitFailed, UnitTimeout
from cluster_schema.fleet import CalibrationCoverage, CalibrationCurve
from cluster_schema.names import check_file_name

from .. import fanout
from ..agent_client import AgentClient, AgentError, UnitAddress
from ..db import units as units_db
from ..fanout import FanOut, Outcome

CURVE_POINTS = 50


def check_names(device: str, name: str | None = None) -> None:
    """400 naming the field for `/`, `..` or anything that is not a plain file name."""
    check_file_name(device, "device")
    if name is not None:
        check_file_name(name, "name")


def _one(db: sqlite3.Connection, unit: str) -> UnitAddress:
    found = units_db.get(db, unit)
    return units_db.addresses(db, [found.name])[found.name]


def _reader(client: AgentClient, path: str) -> Callable[[UnitAddress, float], Awaitable[Outcome]]:
    async def call(unit: UnitAddress, deadline: float) -> Outcome:
        return Outcome(unit.name, True, "", await client.get(unit, path, Calibrations, deadline=deadline))

    return call


def _ask(client: AgentClient, address: UnitAddress, path: str, timeout: float) -> Calibrations:
    try:
        found = fanout.one(_reader(client, path), address, time.monotonic() + timeout)
        return found.result
    except AgentError as exc:
        raise (UnitTimeout if exc.timeout else UnitFailed)(f"{address.name}: {exc}") from None


def for_unit(db: sqlite3.Connection, client: AgentClient, unit: str, timeout: float) -> Calibrations:
    return _ask(client, _one(db, unit), "/unit_api/calibrations", timeout)


def _floats(values: Any) -> list[float]:
    if not isinstance(values, list):
        return []
    return [float(v) for v in values if isinstance(v, int | float) and not isinstance(v, bool)]


def curve_of(device: str, name: str, text: str) -> CalibrationCurve:
    try:
        doc = yaml.safe_load(text) or {}
    except yaml.YAMLError:
        doc = {}
    doc = doc if isinstance(doc, dict) else {}
    data = doc.get("curve_data_") or {}
    data = data if isinstance(data, dict) else {}
    recorded = doc.get("recorded_data") or {}
    recorded = recorded if isinstance(recorded, dict) else {}
    xs, ys = _floats(recorded.get("x")), _floats(recorded.get("y"))
    kind = data.get("type") if isinstance(data.get("type"), str) else None
    coefficients = _floats(data.get("coefficients"))
    points: list[list[float]] = []
    if kind == "poly" and coefficients and xs:
        lo, hi = min(xs), max(xs)
        for i in range(CURVE_POINTS):
            x = lo + (hi - lo) * i / (CURVE_POINTS - 1)
            y = 0.0
            for c in coefficients:  # numpy's polyfit order: highest power first (Pioreactor's)
                y = y * x + c
            points.append([round(x, 6), round(y, 6)])
    return CalibrationCurve(
        device=device,
        name=name,
        curve_type=kind,
        curve_data=coefficients,
        x=str(doc["x"]) if "x" in doc else None,
        y=str(doc["y"]) if "y" in doc else None,
        recorded_x=xs,
        recorded_y=ys,
        points=points,
    )


def curve(
    db: sqlite3.Connection, client: AgentClient, unit: str, device: str, name: str, timeout: float
) -> CalibrationCurve:
    check_names(device, name)
    found = _ask(client, _one(db, unit), f"/unit_api/calibrations/{device}", timeout)
    for c in found.calibrations:
        if c.name == name:
            return curve_of(device, name, c.content or "")
    raise NotFound(f"No calibration {name!r} for device {device!r} on {unit}.")


def coverage(
    db: sqlite3.Connection, client: AgentClient, workers: int, timeout: float
) -> CalibrationCoverage:
    """For every active unit and every device any unit has: the active calibration's name or null."""
    addresses = units_db.addresses(db, units_db.active_names(db))

    call = _reader(client, "/unit_api/calibrations")
    outcomes = FanOut(call, workers=workers).run(list(addresses.values()), time.monotonic() + timeout)
    answer = CalibrationCoverage()
    devices: set[str] = set()
    for name in sorted(outcomes):
        o = outcomes[name]
        if not o.ok:
            answer.errors[name] = o.detail
            continue
        row: dict[str, str | None] = {}
        for c in o.result.calibrations:
            devices.add(c.device)
            row.setdefault(c.device, None)
            if c.active:
                row[c.device] = c.name
        answer.units[name] = row
    answer.devices = sorted(devices)
    for row in answer.units.values():
        for d in answer.devices:
            row.setdefault(d, None)
    return answer

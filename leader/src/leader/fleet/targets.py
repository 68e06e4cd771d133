"""Which units a fleet request acts on: `$all` / no list = every active unit, else named, existing ones."""

from __future__ import annotations

import sqlite3

from cluster_schema.errors import BadRequest
from cluster_schema.names import ALL_UNITS, check_unit

from ..db import units as units_db


def targets_from(db: sqlite3.Connection, units: list[str] | None, field: str) -> list[str]:
    if units is None:
        return units_db.active_names(db)
    if not isinstance(units, list) or not units:
        raise BadRequest(f"Invalid units at `{field}`: a non-empty list of unit names.")
    known = units_db.addresses(db, [u for u in units if isinstance(u, str)])
    for i, unit in enumerate(units):
        check_unit(unit, f"{field}[{i}]")
        if unit not in known:
            raise BadRequest(f"Unknown unit at `{field}[{i}]`: {unit!r} is not registered.")
    return list(dict.fromkeys(units))


def unit_or_all(db: sqlite3.Connection, unit: str) -> list[str]:
    """`<unit>` of a path: `$all` = every active unit, else that unit (404 when unknown)."""
    if unit == ALL_UNITS:
        return units_db.active_names(db)
    return [units_db.get(db, check_unit(unit)).name]

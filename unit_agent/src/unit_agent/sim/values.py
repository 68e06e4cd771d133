"""Values as real pio handles them: setting specs, payload casts, log formatting, timestamps."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any, NamedTuple

STATES = ("init", "ready", "sleeping", "disconnected", "lost")


class Setting(NamedTuple):
    datatype: str  # float | integer | string | boolean | json, or a struct name (read-only)
    settable: bool
    unit: str | None = None
    persist: bool = False  # persisted settings survive a clean stop; the rest are cleared


def log_timestamp() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def reading_timestamp() -> str:
    """Readings carry microseconds at millisecond precision: 2026-11-21T05:21:52.714000Z."""
    now = dt.datetime.now(dt.UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000).isoformat().replace("+00:00", "Z")


def cast(value: bytes, datatype: str) -> Any:
    """A `…/set` payload as the setting's datatype; ValueError/TypeError when it is not one."""
    if datatype == "string":
        return value.decode()
    if datatype == "float":
        return float(value)
    if datatype == "integer":
        return int(value)
    if datatype == "boolean":
        text = value.decode().lower()
        if text in ("true", "1", "y", "on", "yes", "t"):
            return True
        if text in ("false", "0", "n", "off", "no", "f"):
            return False
        raise ValueError(text)
    if datatype == "json":
        return json.loads(value)
    raise TypeError(datatype)


def with_units(value: Any, unit: str | None) -> str:
    """As in "Updated target_rpm from 500.0 RPM to 700.0 RPM." (real pio cuts at 40 characters)."""
    text = f"{value}" if unit is None else f"{value}{unit}" if unit == "%" else f"{value} {unit}"
    return text[:40] + (text[40:] and "...")

"""Small request/response helpers shared by the blueprints."""

from __future__ import annotations

import math
import re
from datetime import datetime
from typing import Any, TypeVar

from flask import Response, request

from cluster_schema import codec
from cluster_schema.errors import BadRequest

T = TypeVar("T")

MAX_WAIT = 30.0


def json_response(obj: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(codec.encode(obj), status=status, mimetype="application/json", headers=headers)


def body(type_: type[T]) -> T:
    """Decode the request body into a Struct and run its `validate()` when it has one."""
    value = codec.decode(type_, request.get_data(cache=False))
    validate = getattr(value, "validate", None)
    return validate() if validate else value


def query_arg(name: str, default: str | None = None) -> str | None:
    """One query parameter, given at most once (which of several would count is nobody's guess)."""
    values = request.args.getlist(name)
    if len(values) > 1:
        raise BadRequest(f"Given more than once: `?{name}`.")
    return values[0] if values else default


def query_time(name: str, default: float) -> float:
    """A time parameter: epoch seconds or ISO 8601; `default` when absent or empty."""
    raw = query_arg(name)
    if not raw:
        return default
    try:
        return float(raw)
    except ValueError:
        pass
    try:
        return datetime.fromisoformat(raw).timestamp()
    except ValueError:
        raise BadRequest(f"Invalid time at `?{name}`: epoch seconds or ISO 8601.") from None


def query_float(
    name: str, default: float | None = None, *, lo: float = 0.0, hi: float | None = None
) -> float | None:
    """A number within [lo, hi]; absent: `default`. Given empty, or not a finite number: 400."""
    raw = query_arg(name)
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise BadRequest(f"Invalid number at `?{name}`.")
    if value < lo or (hi is not None and value > hi):
        raise BadRequest(f"Out of range at `?{name}`: {lo}-{hi if hi is not None else 'any'}.")
    return value


def query_int(name: str, default: int, *, lo: int = 0, hi: int = 1000) -> int:
    """An integer within [lo, hi], compared exactly (a float would round 2**62 + 1 to 2**62)."""
    raw = query_arg(name)
    if raw is None:
        return default
    if re.fullmatch(r"-?[0-9]{1,30}", raw):
        value = int(raw)
    else:
        number = query_float(name, None, lo=lo, hi=hi)  # `5.0` is the integer 5, as in JSON
        if number is None or number != int(number):
            raise BadRequest(f"Invalid integer at `?{name}`.")
        value = int(number)
    if not lo <= value <= hi:
        raise BadRequest(f"Out of range at `?{name}`: {lo}-{hi}.")
    return value

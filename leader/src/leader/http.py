"""Small request/response helpers shared by the blueprints."""

from __future__ import annotations

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


def query_float(
    name: str, default: float | None = None, *, lo: float = 0.0, hi: float | None = None
) -> float | None:
    raw = query_arg(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise BadRequest(f"Invalid number at `?{name}`.") from None
    if value < lo or (hi is not None and value > hi):
        raise BadRequest(f"Out of range at `?{name}`: {lo}-{hi if hi is not None else 'any'}.")
    return value


def query_int(name: str, default: int, *, lo: int = 0, hi: int = 1000) -> int:
    value = query_float(name, default, lo=lo, hi=hi)
    assert value is not None
    if value != int(value):
        raise BadRequest(f"Invalid integer at `?{name}`.")
    return int(value)

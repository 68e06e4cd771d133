"""JSON in and out: bodies decoded by the shared Structs, answers encoded by msgspec."""

from __future__ import annotations

from typing import Any, TypeVar

from flask import Response, request

from cluster_schema.codec import decode, encode
from cluster_schema.errors import BadRequest

T = TypeVar("T")


def json_response(obj: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(encode(obj), status=status, headers=headers, mimetype="application/json")


def query_arg(name: str) -> str | None:
    """One query parameter, given at most once (which of several would count is nobody's guess)."""
    values = request.args.getlist(name)
    if len(values) > 1:
        raise BadRequest(f"Given more than once: `?{name}`.")
    return values[0] if values else None


def body(type_: type[T]) -> T:
    """Decode the request body into `type_` and run its `validate()` when it has one (400 names the field)."""
    value = decode(type_, request.get_data(cache=False))
    validate = getattr(value, "validate", None)
    return validate() if callable(validate) else value

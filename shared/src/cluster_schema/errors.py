"""The one error type of the project and the contract's error body.

`ApiError` carries an HTTP status and a short machine code; both services turn it into
`{"error": code, "message": ...}`. Decoding errors from msgspec become `BadRequest` with the field path.
"""

from __future__ import annotations

import msgspec


class ErrorBody(msgspec.Struct, kw_only=True):
    error: str
    message: str


class ApiError(Exception):
    status = 500
    code = "internal_error"
    headers: dict[str, str] = {}

    def __init__(self, message: str, *, status: int | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status
        if code is not None:
            self.code = code

    def body(self) -> ErrorBody:
        return ErrorBody(error=self.code, message=self.message)


class BadRequest(ApiError):
    status, code = 400, "bad_request"


class Unauthorized(ApiError):
    status, code = 401, "unauthorized"
    headers = {"WWW-Authenticate": "Bearer"}


class Forbidden(ApiError):
    status, code = 403, "forbidden"


class NotFound(ApiError):
    status, code = 404, "not_found"


class Conflict(ApiError):
    status, code = 409, "conflict"


class TooManyRequests(ApiError):
    status, code = 429, "too_many_requests"


class UnitFailed(ApiError):
    status, code = 502, "unit_failed"


class UnitTimeout(ApiError):
    status, code = 504, "unit_timeout"


def from_validation_error(exc: msgspec.ValidationError | msgspec.DecodeError) -> BadRequest:
    """msgspec already names the path (e.g. "... - at `$.options.target_rpm`"); keep its sentence."""
    text = str(exc)
    if isinstance(exc, msgspec.ValidationError):
        return BadRequest(text, code="invalid_field")
    return BadRequest(f"Malformed JSON body: {text}", code="malformed_json")

"""Every error leaves as the contract's `{"error", "message"}` body."""

from __future__ import annotations

import logging

from flask import Flask, Response
from werkzeug.exceptions import HTTPException

from cluster_schema.errors import ApiError, ErrorBody

from .http import json_response

log = logging.getLogger("unit_agent.web")


def _api_error(exc: ApiError) -> Response:
    return json_response(exc.body(), exc.status, exc.headers)


def _http_error(exc: HTTPException) -> Response:
    """Werkzeug's own errors (routing 404, 405, 413...) in the contract's body, keeping the headers the
    exception carries: a 405 says which methods exist in `Allow` (RFC 9110)."""
    code = (exc.name or "error").lower().replace(" ", "_")
    headers = {k: v for k, v in exc.get_headers() if k.lower() != "content-type"}
    return json_response(ErrorBody(error=code, message=exc.description or exc.name), exc.code or 500, headers)


def _unexpected(exc: Exception) -> Response:
    log.exception("unhandled error")
    return json_response(
        ErrorBody(error="internal_error", message="Internal error; see the agent's log."), 500
    )


def init_app(app: Flask) -> None:
    app.register_error_handler(ApiError, _api_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected)

"""Every /api error leaves as the contract's `{"error", "message"}` body; a page's error is a page."""

from __future__ import annotations

import logging

from flask import Flask, Response, render_template, request
from werkzeug.exceptions import HTTPException

from cluster_schema.errors import ApiError, ErrorBody

from .http import json_response

log = logging.getLogger(__name__)


# Paths whose callers are programs: they always get JSON.
MACHINE_PREFIXES = ("/api/", "/unit_api/", "/metrics", "/static/")


def _wants_json() -> bool:
    """Programs get JSON: on machine paths, and on pages they call with JSON (the sign-in forms take both)."""
    if request.path.startswith(MACHINE_PREFIXES) or request.path == "/api" or request.is_json:
        return True
    return request.accept_mimetypes.best == "application/json"


def _answer(body: ErrorBody, status: int, headers: dict[str, str] | None = None) -> Response:
    if _wants_json():
        return json_response(body, status, headers)
    html = render_template("error.html", status=status, error=body.error, message=body.message)
    return Response(html, status=status, mimetype="text/html", headers=headers)


def _api_error(exc: ApiError) -> Response:
    return _answer(exc.body(), exc.status, exc.headers)


def _http_error(exc: HTTPException) -> Response:
    """Werkzeug's own errors (routing 404, 405, 413...) in the contract's body, keeping the headers the
    exception carries: a 405 says which methods exist in `Allow` (RFC 9110)."""
    code = (exc.name or "error").lower().replace(" ", "_")
    headers = {k: v for k, v in exc.get_headers() if k.lower() != "content-type"}
    return _answer(ErrorBody(error=code, message=exc.description or exc.name), exc.code or 500, headers)


def _unexpected(exc: Exception) -> Response:
    log.exception("unhandled error")
    return _answer(ErrorBody(error="internal_error", message="Internal error; see the leader's log."), 500)


def init_app(app: Flask) -> None:
    app.register_error_handler(ApiError, _api_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected)

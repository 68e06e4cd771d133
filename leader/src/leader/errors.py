"""Every /api error leaves as the contract's `{"error", "message"}` body; a page's error is a page."""

from __future__ import annotations

import logging
import shutil
import sqlite3
from pathlib import Path

from flask import Flask, Response, current_app, render_template, request
from werkzeug.exceptions import HTTPException

from cluster_schema.errors import ApiError, ErrorBody

from .http import json_response

log = logging.getLogger(__name__)


FULL_BELOW = 64 * 1024  # free bytes under which an I/O error on the store counts as a full disk

# Paths whose callers are programs: they always get JSON.
MACHINE_PREFIXES = ("/api/", "/unit_api/", "/metrics", "/static/")


def wants_json() -> bool:
    """Programs get JSON: on machine paths, and on pages they call with JSON (the sign-in forms take both)."""
    if request.path.startswith(MACHINE_PREFIXES) or request.path == "/api" or request.is_json:
        return True
    return request.accept_mimetypes.best == "application/json"


def answer(body: ErrorBody, status: int, headers: dict[str, str] | None = None) -> Response:
    if wants_json():
        return json_response(body, status, headers)
    html = render_template("error.html", status=status, error=body.error, message=body.message)
    return Response(html, status=status, mimetype="text/html", headers=headers)


def _api_error(exc: ApiError) -> Response:
    return answer(exc.body(), exc.status, exc.headers)


def _http_error(exc: HTTPException) -> Response:
    """Werkzeug's own errors (routing 404, 405, 413...) in the contract's body, keeping the headers the
    exception carries: a 405 says which methods exist in `Allow` (RFC 9110)."""
    code = (exc.name or "error").lower().replace(" ", "_")
    headers = {k: v for k, v in exc.get_headers() if k.lower() != "content-type"}
    return answer(ErrorBody(error=code, message=exc.description or exc.name), exc.code or 500, headers)


def _unexpected(exc: Exception) -> Response:
    log.exception("unhandled error")
    return answer(ErrorBody(error="internal_error", message="Internal error; see the leader's log."), 500)


def _disk_full(exc: sqlite3.OperationalError) -> bool:
    """SQLITE_FULL, or an I/O error on a disk with no space left (opening a connection creates the -shm
    file: with no space that fails as "disk I/O error", not as SQLITE_FULL)."""
    if "database or disk is full" in str(exc):
        return True
    if "disk I/O error" not in str(exc):
        return False
    try:
        return shutil.disk_usage(Path(current_app.config["DATABASE"]).parent).free < FULL_BELOW
    except OSError:
        return False


def _store_error(exc: sqlite3.OperationalError) -> Response:
    """The store's disk is full: 507, named, nothing half-done (the transaction rolled back)."""
    if _disk_full(exc):
        log.error("the store's disk is full: writes fail until space is freed (%s)", exc)
        body = ErrorBody(error="storage_full", message="The leader's disk is full; free space and retry.")
        return answer(body, 507)
    return _unexpected(exc)


def init_app(app: Flask) -> None:
    app.register_error_handler(ApiError, _api_error)
    app.register_error_handler(sqlite3.OperationalError, _store_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected)

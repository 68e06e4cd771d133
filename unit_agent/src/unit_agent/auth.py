"""Bearer-token check on every route but health; the token is the cluster token, read from a private file.

Outside development the agent refuses to start when the token file is missing, holds a placeholder or a
short value, or can be read by other users. In development (APP_ENV=development) a missing token turns the
check off - loudly.
"""

from __future__ import annotations

import hmac
import logging
import os
import re
import threading
from pathlib import Path

from flask import Flask, current_app, request

from cluster_schema.agent import CLUSTER_TOKEN_PATTERN
from cluster_schema.errors import BadRequest, Unauthorized

from .config import ConfigError, Settings

log = logging.getLogger("unit_agent.auth")

PLACEHOLDERS = {"", "changeme", "change-me", "default", "token", "secret", "dev", "pioreactor"}
MIN_LENGTH = 16
OPEN_ENDPOINTS = {"meta.health"}
METRICS_ENDPOINT = "metrics.metrics"  # also accepts the read-only metrics token


def load_token(settings: Settings, path: Path | None = None) -> str | None:
    path = path or settings.token_file
    try:
        mode = path.stat().st_mode
        token: str | None = path.read_text().strip()
    except OSError:
        mode, token = 0, None
    if token is None:
        problem = f"no token file at {path}"
    elif token.lower() in PLACEHOLDERS or len(token) < MIN_LENGTH:
        problem = f"the token in {path} is a placeholder or shorter than {MIN_LENGTH} characters"
    elif mode & 0o077:
        problem = f"{path} can be read by other users (chmod 600 it)"
    else:
        return token
    if not settings.development:
        raise ConfigError(f"Refusing to start: {problem}. Write the cluster token there (chmod 600).")
    log.warning(
        "DEVELOPMENT MODE: %s; %s", problem, "requests are NOT authenticated" if not token else "using it"
    )
    return token or None


class Token:
    """The accepted token; re-read when its file changes (a rotation by PUT /unit_api/cluster_token)."""

    def __init__(self, settings: Settings, path: Path | None = None):
        self.settings = settings
        self.path = path or settings.token_file
        self._lock = threading.Lock()
        self._stamp = self._stat()
        self._value = load_token(settings, self.path)

    def _stat(self) -> tuple[int, int] | None:
        try:
            st = os.stat(self.path)
        except OSError:
            return None
        return (st.st_mtime_ns, st.st_size)

    def current(self) -> str | None:
        stamp = self._stat()
        if stamp != self._stamp:
            with self._lock:
                try:
                    self._value = load_token(self.settings, self.path)
                except ConfigError:
                    log.error(
                        "The token file %s changed and is no longer acceptable; keeping the old token.",
                        self.path,
                    )
                self._stamp = stamp
        return self._value

    def replace(self, new: str) -> None:
        if not re.fullmatch(CLUSTER_TOKEN_PATTERN, new) or new.lower() in PLACEHOLDERS:
            raise BadRequest(f"Invalid token at `$.token`: {MIN_LENGTH}-512 printable characters, no spaces.")
        from .config_files import write_atomic  # the same temp-file, fsync, rename as config files

        with self._lock:
            write_atomic(Path(self.path), (new + "\n").encode(), mode=0o600)
            self._value, self._stamp = new, self._stat()
        log.info("Cluster token replaced.")


def _check() -> None:
    if request.endpoint in OPEN_ENDPOINTS:
        return
    a = current_app.extensions["unit_agent"]
    token = a.token.current()
    if token is None:  # development without a token (warned at start)
        return
    accepted = [token]
    if request.endpoint == METRICS_ENDPOINT:
        if a.settings.metrics_public:
            return
        metrics_token = a.metrics_token.current() if a.metrics_token is not None else None
        accepted += [metrics_token] if metrics_token else []
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    given_bytes = given.strip().encode()
    # every candidate compared (constant time each), so the answer's timing says nothing about which
    matches = [hmac.compare_digest(given_bytes, t.encode()) for t in accepted]
    if scheme.lower() != "bearer" or not any(matches):
        raise Unauthorized("Missing or invalid credentials: send `Authorization: Bearer <cluster token>`.")


def init_app(app: Flask) -> None:
    app.before_request(_check)

"""Credentials for `/api`: `Authorization: Bearer <api token>` (UI sessions come with the UI).

Every view requires credentials unless decorated with `@public`. With `APP_ENV=development` set explicitly in
the environment, requests without credentials pass; the start-up log says so loudly.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask, current_app, g, request

from cluster_schema.errors import Unauthorized

from .db import get_db
from .db import tokens as tokens_db

log = logging.getLogger(__name__)
F = TypeVar("F", bound=Callable[..., Any])


ROLES = ("viewer", "operator", "admin")  # each includes the one before


def public(view: F) -> F:
    view.public = True  # type: ignore[attr-defined]
    return view


def requires(role: str) -> Callable[[F], F]:
    """Declare, next to the route, the least role a view needs (`viewer`, `operator`, `admin`)."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}")

    def mark(view: F) -> F:
        view.role = role  # type: ignore[attr-defined]
        return view

    return mark


def _bearer() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()


def check_credentials() -> None:
    """before_request of the `/api` blueprint."""
    view = current_app.view_functions.get(request.endpoint or "")
    if view is None or getattr(view, "public", False):
        return
    token = _bearer()
    if token is not None:
        found = tokens_db.authenticate(get_db(), token)
        if found is None:
            raise Unauthorized("Invalid or revoked API token.")
        g.principal = f"token:{found}"
        return
    if current_app.config["APP_ENV"] == "development":
        g.principal = "development"
        return
    raise Unauthorized("Credentials required: send `Authorization: Bearer <api token>`.")


def principal() -> str | None:
    return g.get("principal")


def init_app(app: Flask) -> None:
    if app.config["APP_ENV"] == "development":
        log.warning(
            "!!! APP_ENV=development: /api answers requests WITHOUT credentials. "
            "Never use this on a network. !!!"
        )

"""`/api`: one parent blueprint; every module of this package that defines `bp` is nested under it.

To add a concern, create `leader/api/<concern>.py` with `bp = Blueprint("<concern>", __name__)` and,
for the OpenAPI document, `ROUTES: list[Route]` (one per view and method; see `cluster_schema.openapi`
for what a Route says). Nothing else needs editing. Credentials and roles are checked for every route by
leader.auth's app-wide check: declare each view's least role next to its route with
`@requires("viewer"|"operator"|"admin")` (or `@public`). Tests fail when the URL map and the document
disagree, and schemathesis checks the rest.
"""

from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType
from typing import Any

from flask import Blueprint, Flask
from werkzeug.routing import IntegerConverter, Map

from cluster_schema.openapi import Route


def modules() -> list[ModuleType]:
    found = []
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda i: i.name):
        module = importlib.import_module(f"{__name__}.{info.name}")
        if isinstance(getattr(module, "bp", None), Blueprint):
            found.append(module)
    return found


def routes() -> list[Route]:
    return [route for module in modules() for route in getattr(module, "ROUTES", [])]


class SqliteInt(IntegerConverter):
    """`<int:...>`: at most an SQLite INTEGER (2**63 - 1, as the documents say); beyond it no row can
    match, so the URL matches no route: 404, not an overflow in the store."""

    def __init__(self, map: Map, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", 2**63 - 1)
        super().__init__(map, *args, **kwargs)


def init_app(app: Flask) -> None:
    app.url_map.converters["int"] = SqliteInt
    api = Blueprint("api", __name__, url_prefix="/api")
    for module in modules():
        api.register_blueprint(module.bp)
    app.register_blueprint(api)

"""Turn (method, path, request Struct, response Struct) routes into an OpenAPI 3.1 document."""

from __future__ import annotations

import re
from typing import Any, NamedTuple

import msgspec

from .errors import ErrorBody

_PARAM = re.compile(r"<(?:[a-z]+:)?([A-Za-z_]+)>")


class Route(NamedTuple):
    method: str
    path: str  # Flask style: /unit_api/jobs/run/job_name/<job>
    request: Any | None
    response: Any | None
    status: int = 200
    summary: str = ""


def openapi_path(path: str) -> str:
    return _PARAM.sub(r"{\1}", path)


def document(title: str, version: str, routes: list[Route]) -> dict[str, Any]:
    types = {ErrorBody}
    for r in routes:
        types.update(t for t in (r.request, r.response) if t is not None)
    ordered = sorted(types, key=repr)
    schemas_list, components = msgspec.json.schema_components(
        ordered, ref_template="#/components/schemas/{name}"
    )
    schema_of = dict(zip(ordered, schemas_list, strict=True))
    paths: dict[str, dict[str, Any]] = {}
    for r in routes:
        op: dict[str, Any] = {"summary": r.summary or f"{r.method} {r.path}"}
        params = _PARAM.findall(r.path)
        if params:
            op["parameters"] = [
                {"name": p, "in": "path", "required": True, "schema": {"type": "string"}} for p in params
            ]
        if r.request is not None:
            op["requestBody"] = {
                "required": True,
                "content": {"application/json": {"schema": schema_of[r.request]}},
            }
        ok: dict[str, Any] = {"description": "OK"}
        if r.response is not None:
            ok["content"] = {"application/json": {"schema": schema_of[r.response]}}
        error = {"description": "Error", "content": {"application/json": {"schema": schema_of[ErrorBody]}}}
        op["responses"] = {str(r.status): ok, "4XX": error, "5XX": error}
        paths.setdefault(openapi_path(r.path), {})[r.method.lower()] = op
    return {
        "openapi": "3.1.0",
        "info": {"title": title, "version": version},
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
        "security": [{"bearer": []}],
    }

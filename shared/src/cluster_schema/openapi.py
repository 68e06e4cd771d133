"""Turn each service's `ROUTES` into its OpenAPI 3.1 document, so the document cannot drift from the code.

Every route module lists its routes next to the views:

    ROUTES = [Route("POST", "/api/experiments", ExperimentCreate, Experiment, 201, "Create", errors=(409,))]

- bodies and answers are the msgspec types the view decodes and encodes: their `msgspec.Meta` constraints
  (patterns, lengths, ranges, `Literal` enums) become the schemas, and msgspec enforces the same at decode;
- path parameters take their type from `PATH_PARAMS` by name (the name rules of `names.py`), or from
  `params=`; query parameters from `query=` (a type or a JSON Schema dict);
- error statuses are derived from the route's shape (400 when it takes input, 413 when it takes a body,
  401 and 403 unless `public`, 404 when it has path parameters) plus `errors=` for the ones its logic
  answers (409, 429, 502, 504 ...), each with the contract's `{"error", "message"}` body;
- `public=True` marks a route without credentials (`security: []`).
Tests walk each app's URL map against the document, and schemathesis checks the services against it.
"""

from __future__ import annotations

import re
from typing import Any, NamedTuple

import msgspec

from .errors import ErrorBody
from .names import ExperimentName, FileName, JobName, UnitName

_PARAM = re.compile(r"<(?:([a-z]+):)?([A-Za-z_]+)>")
# Flask's <int:...>: digits only, and an SQLite INTEGER behind it
INT_PARAM: dict[str, Any] = {"type": "integer", "minimum": 0, "maximum": 2**63 - 1}

# Path parameters named so in a Flask rule have this type unless a route says otherwise.
PATH_PARAMS: dict[str, Any] = {
    "exp": ExperimentName,
    "unit": UnitName,
    "job": JobName,
    "name": FileName,
    "device": FileName,
}

ERROR_TEXT = {
    400: "Bad input: `message` names the field path",
    401: "No or invalid credentials",
    403: "Not allowed (role too low, or the feature is disabled)",
    404: "Unknown resource",
    405: "Method not allowed (`Allow` lists the URL's methods)",
    409: "Conflict with the current state",
    413: "Body too large",
    429: "Too many requests",
    502: "The unit failed (a request for exactly one unit)",
    504: "The unit timed out (a request for exactly one unit)",
}


# gunicorn refuses a request line over 4 KB itself (limit_request_line), before the app, in HTML; values
# within the documented lengths always fit (at most 12 bytes a character once percent-encoded).
URI_TOO_LONG: dict[str, Any] = {
    "description": "Request line too long (answered by the HTTP server)",
    "content": {"text/html": {"schema": {"type": "string"}}},
}


class Route(NamedTuple):
    method: str
    path: str  # Flask style: /unit_api/jobs/run/job_name/<job>
    request: Any | None  # the body's msgspec type (None: no body)
    response: Any | None  # the success answer's type (None: empty for 204, any JSON otherwise)
    status: int = 200
    summary: str = ""
    errors: tuple[int, ...] = ()  # error statuses the route's logic answers, beyond the derived ones
    public: bool = False  # no credentials needed
    params: dict[str, Any] | None = None  # path parameter types (by name) not in PATH_PARAMS
    query: dict[str, Any] | None = None  # optional query parameters: a type or a JSON Schema dict
    media_type: str = "application/json"  # of the success answer
    headers: tuple[str, ...] = ()  # headers of the success answer (e.g. "Location")
    answers: dict[int, Any] | None = None  # other non-error answers: status -> type
    request_headers: dict[str, Any] | None = None  # optional request headers: a type or a JSON Schema dict


def openapi_path(path: str) -> str:
    return _PARAM.sub(r"{\2}", path)


def _param_type(route: Route, converter: str | None, name: str) -> Any:
    if route.params and name in route.params:
        return route.params[name]
    if converter == "int":
        return INT_PARAM
    return PATH_PARAMS.get(name, str)


def document(
    title: str, version: str, routes: list[Route], *, roles: bool = True, description: str = ""
) -> dict[str, Any]:
    """`roles`: every credentialed route may answer 403 (the leader's roles); else only `errors` say so."""
    types: list[Any] = [ErrorBody]
    schemas: dict[int, Any] = {}  # id(type) -> schema, filled below

    def want(tp: Any) -> None:
        if not isinstance(tp, dict) and tp is not None and all(t is not tp for t in types):
            types.append(tp)

    for r in routes:
        extras = (*(r.answers or {}).values(), *(r.query or {}).values(), *(r.request_headers or {}).values())
        for tp in (r.request, r.response, *extras):
            want(tp)
        for conv, name in _PARAM.findall(r.path):
            want(_param_type(r, conv or None, name))
    found, components = msgspec.json.schema_components(types, ref_template="#/components/schemas/{name}")
    for tp, schema in zip(types, found, strict=True):
        schemas[id(tp)] = schema

    def schema_of(tp: Any) -> dict[str, Any]:
        if isinstance(tp, dict):
            return tp
        return dict(schemas[id(tp)])

    error = {"application/json": {"schema": schema_of(ErrorBody)}}
    paths: dict[str, dict[str, Any]] = {}
    for r in routes:
        op: dict[str, Any] = {"summary": r.summary or f"{r.method} {r.path}"}
        if r.public:
            op["security"] = []
        params: list[dict[str, Any]] = [
            {
                "name": name,
                "in": "path",
                "required": True,
                "schema": schema_of(_param_type(r, conv or None, name)),
            }
            for conv, name in _PARAM.findall(r.path)
        ]
        params += [
            {"name": name, "in": "query", "required": False, "schema": schema_of(tp)}
            for name, tp in (r.query or {}).items()
        ]
        params += [
            {"name": name, "in": "header", "required": False, "schema": schema_of(tp)}
            for name, tp in (r.request_headers or {}).items()
        ]
        if params:
            op["parameters"] = params
        if r.request is not None:
            op["requestBody"] = {
                "required": _body_required(r.request),  # an empty body reads as {}
                "content": {"application/json": {"schema": schema_of(r.request)}},
            }
        responses: dict[str, Any] = {str(r.status): _answer(r.status, r.response, r.media_type, schema_of)}
        if r.headers:
            responses[str(r.status)]["headers"] = {
                h: {"schema": {"type": "string"}, "required": True} for h in r.headers
            }
        for status, tp in (r.answers or {}).items():
            responses[str(status)] = _answer(status, tp, "application/json", schema_of)
        for status in sorted(set(_derived_errors(r, roles)) | set(r.errors)):
            responses.setdefault(
                str(status), {"description": ERROR_TEXT.get(status, "Error"), "content": error}
            )
        if r.query or _PARAM.search(r.path):
            responses["414"] = URI_TOO_LONG
        op["responses"] = dict(sorted(responses.items()))
        paths.setdefault(openapi_path(r.path), {})[r.method.lower()] = op
    info: dict[str, Any] = {"title": title, "version": version}
    if description:
        info["description"] = description
    return {
        "openapi": "3.1.0",
        "info": info,
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
        "security": [{"bearer": []}],
    }


def _body_required(tp: Any) -> bool:
    info = msgspec.inspect.type_info(tp)
    if isinstance(info, msgspec.inspect.Metadata):
        if "anyOf" in (info.extra_json_schema or {}):  # "at least one of": `{}` is refused
            return True
        info = info.type
    if isinstance(info, msgspec.inspect.StructType):
        return any(f.required for f in info.fields)
    return True


def _derived_errors(r: Route, roles: bool) -> list[int]:
    statuses = []
    has_path_params = bool(_PARAM.search(r.path))
    if r.request is not None or r.query or r.request_headers or has_path_params:
        statuses.append(400)
    if r.request is not None:
        statuses.append(413)  # both apps cap a body (MAX_CONTENT_LENGTH)
    if not r.public:
        statuses += [401, 403] if roles else [401]
    if has_path_params:
        statuses.append(404)
    return statuses


def _answer(status: int, tp: Any, media_type: str, schema_of: Any) -> dict[str, Any]:
    answer: dict[str, Any] = {"description": _SUCCESS.get(status, "OK")}
    if status == 204:
        return answer
    if tp is not None:
        schema = schema_of(tp)
    else:
        schema = (
            {} if media_type == "application/json" else {"type": "string", "contentMediaType": media_type}
        )
    answer["content"] = {media_type: {"schema": schema}}
    return answer


_SUCCESS = {200: "OK", 201: "Created", 202: "Accepted", 204: "No content"}

# Schemas of common query parameters.
WAIT: dict[str, Any] = {
    "type": "number",
    "minimum": 0,
    "maximum": 30,
    "description": "Answer when the operation finishes or after this many seconds",
}


def sse_event(names: tuple[str, ...] | list[str]) -> dict[str, Any]:
    """The schema of one server-sent event (OpenAPI 3.1 reads a `text/event-stream` schema per event)."""
    return {
        "type": "object",
        "required": ["data"],
        "properties": {
            "event": enum(names),
            "data": {"type": "string", "contentMediaType": "application/json"},
            "id": {"type": "string"},
        },
    }


def enum(values: tuple[str, ...] | list[str]) -> dict[str, Any]:
    return {"type": "string", "enum": list(values)}

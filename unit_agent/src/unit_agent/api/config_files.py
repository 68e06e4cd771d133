"""GET / PUT /unit_api/config/<name>: known config files only, written atomically."""

from __future__ import annotations

from flask import Blueprint, Response

from cluster_schema.agent import ConfigFileAnswer, ConfigFileBody
from cluster_schema.openapi import Route

from .. import config_files
from ..http import body, json_response
from . import agent

bp = Blueprint("config_files", __name__, url_prefix="/unit_api/config")


@bp.get("/<name>")
def read(name: str) -> Response:
    return json_response(config_files.read(agent().settings, name))


@bp.put("/<name>")
def write(name: str) -> Response:
    return json_response(config_files.write(agent().settings, name, body(ConfigFileBody)))


ROUTES = [
    Route("GET", "/unit_api/config/<name>", None, ConfigFileAnswer, summary="A known config file"),
    Route(
        "PUT",
        "/unit_api/config/<name>",
        ConfigFileBody,
        ConfigFileAnswer,
        summary="Write atomically (validated as INI); 409 when `sha256` is not the current file's",
        errors=(409,),
    ),
]

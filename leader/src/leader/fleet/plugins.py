"""Plugin requests: validated here (never through a shell), run as operations with a step per unit."""

from __future__ import annotations

import re
import sqlite3
import time
from typing import Any

from flask import current_app
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from cluster_schema.agent import Plugins
from cluster_schema.errors import BadRequest, Forbidden
from cluster_schema.fleet import PluginChange, PluginsByUnit, UnitPlugin

from ..agent_client import AgentClient, UnitAddress
from ..db import units as units_db
from ..fanout import FanOut, Outcome
from .targets import targets_from

# PEP 508 distribution name (the regex of the spec, case-insensitive)
NAME = re.compile(r"^([A-Z0-9]|[A-Z0-9][A-Z0-9._-]*[A-Z0-9])$", re.IGNORECASE)


def check_enabled() -> None:
    if not current_app.config["PLUGINS_ENABLED"]:
        raise Forbidden(
            "Plugin installation is disabled on this leader (PLUGINS_ENABLED = false).",
            code="plugins_disabled",
        )


def validate(req: PluginChange, install: bool) -> dict[str, Any]:
    """The operation's params; 400 naming the field for anything that is not a plain name or version."""
    if not isinstance(req.name, str) or len(req.name) > 100 or not NAME.match(req.name):
        raise BadRequest("Invalid plugin name at `$.name`: a PEP 508 package name (letters, digits, . _ -).")
    params: dict[str, Any] = {"name": req.name}
    if req.version is not None:
        text = req.version
        try:
            if len(text) > 64 or text != text.strip() or not text:
                raise InvalidVersion(text)
            Version(text)
        except InvalidVersion:
            raise BadRequest("Invalid plugin version at `$.version`: a PEP 440 version like 1.2.3.") from None
        if install:
            params["version"] = text
    allowed = current_app.config["PLUGINS_ALLOWED"]
    if install and allowed:
        wanted = canonicalize_name(req.name)
        if wanted not in {canonicalize_name(a) for a in allowed}:
            raise Forbidden(f"Plugin {req.name!r} is not on this leader's allow-list (PLUGINS_ALLOWED).")
    return params


def targets(db: sqlite3.Connection, units: list[str] | None) -> list[str]:
    return targets_from(db, units, "$.units")


def list_all(db: sqlite3.Connection, client: AgentClient, workers: int, timeout: float) -> PluginsByUnit:
    """Ask every active unit (in parallel) for its plugins; units that fail are listed under `errors`."""
    addresses = units_db.addresses(db, units_db.active_names(db))

    async def call(unit: UnitAddress, deadline: float) -> Outcome:
        found = await client.get(unit, "/unit_api/plugins", Plugins, deadline=deadline)
        return Outcome(unit.name, True, "", found)

    outcomes = FanOut(call, workers=workers).run(list(addresses.values()), time.monotonic() + timeout)
    answer = PluginsByUnit()
    for name in sorted(outcomes):
        o = outcomes[name]
        if o.ok:
            answer.units[name] = [UnitPlugin(name=p.name, version=p.version) for p in o.result.plugins]
        else:
            answer.errors[name] = o.detail
    return answer

"""`flask --app leader cluster-token rotate`: give every agent the new token first, then switch to it.

An agent that did not take the new token would stop trusting the leader after the switch, so by default the
leader keeps the old token unless every active unit confirmed (a request with the new token succeeds).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from flask import current_app

from cluster_schema.agent import ClusterTokenPut

from .. import cluster_token
from ..db import get_db
from ..db import units as units_db
from ..extensions import agents
from ..fanout import FanOut, Outcome
from ..unit_address import UnitAddress


@dataclass
class Rotation:
    switched: bool = False
    lines: list[str] = field(default_factory=list)


def rotate(force: bool = False) -> Rotation:
    path = current_app.config["CLUSTER_TOKEN_FILE"]
    old, new = cluster_token.read(path), cluster_token.new_token()
    client = agents()
    db = get_db()
    targets = list(units_db.addresses(db, units_db.active_names(db)).values())

    async def push(unit: UnitAddress, deadline: float) -> Outcome:
        await client.request(
            unit, "PUT", "/unit_api/cluster_token", ClusterTokenPut(token=new), deadline=deadline, token=old
        )
        await client.request(
            unit, "GET", "/unit_api/versions", deadline=deadline, token=new
        )  # it trusts the new one
        return Outcome(unit.name, True, "took the new token")

    deadline = time.monotonic() + current_app.config["OPERATION_DEADLINE"]
    outcomes = FanOut(push, workers=current_app.config["FANOUT_WORKERS"]).run(targets, deadline)
    result = Rotation()
    for name in sorted(outcomes):
        o = outcomes[name]
        result.lines.append(f"{name}: {'ok' if o.ok else 'FAILED'} {o.detail}")
    failed = [o.unit for o in outcomes.values() if not o.ok]
    if failed and not force:
        result.lines.append(f"not switching: {len(failed)} unit(s) did not take the new token")
        return result
    cluster_token.write(path, new)
    result.switched = True
    result.lines.append(
        f"switched: {path} holds the new token ({len(targets) - len(failed)}/{len(targets)} units)"
    )
    return result

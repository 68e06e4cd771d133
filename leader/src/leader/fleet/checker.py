"""The worker's slow fleet check: fills the gaps the MQTT heartbeats leave.

Every FLEET_CHECK_INTERVAL seconds, units whose versions are older than FLEET_STALE_AFTER seconds (or
missing: an agent that never published a status, e.g. an older agent or a broker it cannot reach) are
asked `GET /unit_api/versions` in one fan-out; answers are stored with `versions_source = 'http'`.
"""

from __future__ import annotations

import logging
import threading
import time

from cluster_schema.agent import Versions
from cluster_schema.fleet import UnitVersions

from ..agent_client import AgentClient, UnitAddress
from ..db import connect
from ..db import fleet as fleet_db
from ..db import units as units_db
from ..fanout import FanOut, Outcome

log = logging.getLogger("leader.fleet")


def check_once(database: str, client: AgentClient, stale_after: float, workers: int = 32) -> list[str]:
    """Ask the stale units once; answer the units whose versions were stored."""
    db = connect(database)
    try:
        names = fleet_db.stale(db, units_db.active_names(db), time.time() - stale_after)
        addresses = units_db.addresses(db, names)

        async def call(unit: UnitAddress, deadline: float) -> Outcome:
            return Outcome(
                unit.name, True, "", await client.get(unit, "/unit_api/versions", Versions, deadline=deadline)
            )

        outcomes = FanOut(call, workers=workers).run(list(addresses.values()), time.monotonic() + 15)
        stored = []
        for name, o in outcomes.items():
            if o.ok:
                v = o.result
                versions = UnitVersions(agent=v.agent, pio=v.pio, python=v.python, schema=v.schema)
                fleet_db.store_versions(db, name, versions, time.time())
                stored.append(name)
            else:
                log.info("fleet check: %s: %s", name, o.detail)
        return sorted(stored)
    finally:
        db.close()


class Checker:
    def __init__(self, database: str, client: AgentClient, every: float, stale_after: float) -> None:
        self.args = (database, client, stale_after)
        self.every = every
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="fleet-check", daemon=True)

    def _run(self) -> None:
        # the first look waits one interval: retained heartbeats arrive with the ingest's first batches
        while not self._stop.wait(self.every):
            try:
                check_once(*self.args)
            except Exception:
                log.exception("fleet check failed; trying again later")

    def start(self) -> Checker:
        if self.every > 0:
            self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()

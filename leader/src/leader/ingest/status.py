"""The agent's `pioreactor/<unit>/$agent/status` heartbeat -> a `unit_status` row (leader.db.fleet)."""

from __future__ import annotations

from typing import Any

import msgspec

from cluster_schema.fleet import AgentStatus

from ..db.fleet import StatusRow
from .parse import Malformed, parse_time

STATUS = "status"
_decoder = msgspec.json.Decoder(AgentStatus)


def parse_status(unit: str, payload: bytes, received_at: float) -> list[tuple[str, Any]]:
    """One status record; the clock offset is measured here and dropped later for retained messages."""
    if not payload.strip():  # a cleared retained status says nothing
        return []
    try:
        msg = _decoder.decode(payload)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise Malformed(str(exc)) from None
    agent_time = parse_time(msg.utc, received_at) if msg.utc else None
    offset = None if agent_time is None else agent_time - received_at
    v = msg.versions
    row = StatusRow(
        unit,
        v.agent,
        v.pio,
        v.python,
        v.schema,
        received_at,
        msg.interval,
        msg.disk_free_bytes,
        msg.disk_total_bytes,
        msg.memory_free_bytes,
        msg.memory_total_bytes,
        msg.running_jobs,
        msg.worker_alive,
        offset,
    )
    return [(STATUS, row)]

"""`pioreactor/<unit>/<exp>/dosing_events`: each pump run real `pio` (and pio-sim's automations) publishes,
as a row for `leader.db.chart_markers.insert_dosing`: (experiment, ts, unit, event, volume_change, source).
"""

from __future__ import annotations

from typing import Any

import msgspec

from cluster_schema.charts import DosingEvent

from .payloads import Malformed, parse_time

DOSING = "dosing"
TOPIC = "dosing_events"  # relative to pioreactor/<unit>/<exp>/
SUBSCRIPTION = f"pioreactor/+/+/{TOPIC}"

_decoder = msgspec.json.Decoder(DosingEvent)


def parse_dosing(unit: str, exp: str, payload: bytes, received_at: float) -> tuple[str, tuple[Any, ...]]:
    try:
        msg = _decoder.decode(payload)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise Malformed(str(exc)) from None
    ts = parse_time(msg.timestamp, received_at)
    return (DOSING, (exp, ts, unit, msg.event[:100], msg.volume_change, msg.source_of_event[:200]))

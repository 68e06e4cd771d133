"""Chart annotations: Pioreactor's dosing events (MQTT) and the markers the experiment page's charts draw."""

from __future__ import annotations

from typing import Literal

from .base import Wire

MarkerKind = Literal["job_start", "job_stop", "dosing", "profile"]


class DosingEvent(Wire):
    """pioreactor/<unit>/<exp>/dosing_events — the fields real `pio` publishes for every pump run."""

    event: str  # add_media | remove_waste | add_alt_media | …
    volume_change: float
    source_of_event: str = ""
    timestamp: str = ""


class ChartMarker(Wire):
    """One event drawn as a vertical line on the charts: `t` in epoch seconds, `text` for people."""

    t: float
    kind: MarkerKind
    text: str
    unit: str | None = None


class ChartMarkers(Wire):
    """The newest markers in the asked range, oldest first; `truncated` when older ones were left out."""

    markers: list[ChartMarker]
    truncated: bool = False

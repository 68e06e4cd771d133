"""Payloads that travel over MQTT (Pioreactor's formats, plus the agent's presence)."""

from __future__ import annotations

from typing import Literal

from .base import Wire


class LogEvent(Wire):
    """pioreactor/<unit>/<exp>/logs/<source>/<level> — exactly the fields real `pio` publishes."""

    message: str
    level: str
    task: str = ""
    source: str = "app"
    timestamp: str = ""


class AgentPresence(Wire):
    """`online` (retained, on every connection), `offline` (said on a clean stop), `lost` (the last will:
    the agent vanished without saying goodbye)."""

    status: Literal["online", "offline", "lost"]
    unit: str
    agent_version: str = ""
    pio_version: str = ""
    schema_version: int = 0
    timestamp: str = ""

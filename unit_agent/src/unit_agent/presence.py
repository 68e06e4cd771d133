"""The agent on MQTT: a retained `online` (last will `lost`; a clean stop says `offline`) and its own
log lines in Pioreactor's format.

    pioreactor/<unit>/$agent/presence          AgentPresence JSON, retained
    pioreactor/<unit>/<exp>/logs/agent/<level>  {"message", "level", "task", "source", "timestamp"}

Log lines come from Python logging: records of the `unit_agent` logger are published by `MqttLogHandler`;
`extra={"experiment": ...}` picks the experiment (default `$experiment`, Pioreactor's name for "any").
"""

from __future__ import annotations

import logging
import sys
from datetime import UTC, datetime

from cluster_schema import SCHEMA_VERSION, topics
from cluster_schema.codec import encode
from cluster_schema.mqtt import AgentPresence, LogEvent

from . import __version__
from .state import MqttLink

UNIVERSAL_EXPERIMENT = "$experiment"
_LEVELS = {"DEBUG": "debug", "INFO": "info", "WARNING": "warning", "ERROR": "error", "CRITICAL": "critical"}


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def presence(unit: str, status: str, pio_version: str) -> bytes:
    return encode(
        AgentPresence(
            status=status,  # type: ignore[arg-type]
            unit=unit,
            agent_version=__version__,
            pio_version=pio_version,
            schema_version=SCHEMA_VERSION,
            timestamp=now_iso(),
        )
    )


def attach(link: MqttLink, pio_version: str) -> None:
    """Set the last will and announce `online` on every (re)connection. Call before `link.start()`."""
    unit = link.settings.unit
    topic = topics.presence_topic(unit)
    # the will tells the leader apart a crash or a cut cable (`lost`) from a clean stop (`offline`)
    link.will(topic, presence(unit, "lost", pio_version))

    def online(lk: MqttLink) -> None:
        lk.publish(topic, presence(unit, "online", pio_version), retain=True)

    link.on_connect.append(online)


def announce_offline(link: MqttLink, pio_version: str) -> None:
    """On a clean shutdown: say `offline` ourselves (the will only fires on an unclean disconnect)."""
    if not link.started:
        return
    unit = link.settings.unit
    info = link.client.publish(topics.presence_topic(unit), presence(unit, "offline", pio_version), 1, True)
    if link.connected.is_set():
        info.wait_for_publish(2)


class MqttLogHandler(logging.Handler):
    def __init__(self, link: MqttLink, level: int = logging.INFO):
        super().__init__(level)
        self.link = link

    def emit(self, record: logging.LogRecord) -> None:
        try:
            level = _LEVELS.get(record.levelname, "info")
            experiment = getattr(record, "experiment", None) or UNIVERSAL_EXPERIMENT
            event = LogEvent(
                message=record.getMessage(),
                level=record.levelname,
                task="unit_agent",
                source="agent",
                timestamp=now_iso(),
            )
            self.link.publish(
                topics.log_topic(self.link.settings.unit, experiment, "agent", level), encode(event)
            )
        except Exception:
            self.handleError(record)


def setup_logging(level: str) -> None:
    """The agent's own logger writes to stderr (journald); gunicorn's and huey's loggers stay theirs."""
    logger = logging.getLogger("unit_agent")
    logger.setLevel(level.upper())
    if not any(
        isinstance(h, logging.StreamHandler) and not isinstance(h, MqttLogHandler) for h in logger.handlers
    ):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        logger.addHandler(handler)
    logger.propagate = False

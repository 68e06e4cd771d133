"""MQTT topics in Pioreactor's own layout: builders and one parser.

    pioreactor/<unit>/<exp>/<job>/$state             retained job state
    pioreactor/<unit>/<exp>/<job>/$state/set         request a state change
    pioreactor/<unit>/<exp>/<job>/<setting>          retained published setting (also readings)
    pioreactor/<unit>/<exp>/<job>/<setting>/set      request a setting change
    pioreactor/<unit>/<exp>/logs/<source>/<level>    log event (JSON)
    pioreactor/<unit>/$agent/presence                the agent's retained presence + last will
    pioreactor/<unit>/$agent/status                  retained versions + health heartbeat (fleet.py)

Builders refuse segments that would change a topic's meaning (empty, '/', '+', '#', NUL).
"""

from __future__ import annotations

import enum

import msgspec

from .errors import BadRequest

ROOT = "pioreactor"
AGENT_SEGMENT = "$agent"
LOG_LEVELS = ("debug", "info", "notice", "warning", "error", "critical")
JOB_STATES = ("init", "ready", "sleeping", "disconnected", "lost")
_FORBIDDEN = ("/", "+", "#", "\x00")


def segment(value: str, field: str = "topic") -> str:
    if not isinstance(value, str) or not value or any(c in value for c in _FORBIDDEN):
        raise BadRequest(f"Invalid MQTT topic segment at `{field}`: empty or contains '/', '+', '#' or NUL.")
    return value


def _join(*parts: str) -> str:
    return "/".join((ROOT, *parts))


def state_topic(unit: str, experiment: str, job: str) -> str:
    return _join(segment(unit, "unit"), segment(experiment, "experiment"), segment(job, "job"), "$state")


def state_set_topic(unit: str, experiment: str, job: str) -> str:
    return state_topic(unit, experiment, job) + "/set"


def setting_topic(unit: str, experiment: str, job: str, setting: str) -> str:
    if setting.startswith("$"):
        raise BadRequest("Invalid setting name at `setting`: may not start with '$'.")
    return _join(
        segment(unit, "unit"),
        segment(experiment, "experiment"),
        segment(job, "job"),
        segment(setting, "setting"),
    )


def setting_set_topic(unit: str, experiment: str, job: str, setting: str) -> str:
    return setting_topic(unit, experiment, job, setting) + "/set"


def log_topic(unit: str, experiment: str, source: str, level: str) -> str:
    level = level.lower()
    if level not in LOG_LEVELS:
        raise BadRequest(f"Invalid log level at `level`: one of {', '.join(LOG_LEVELS)}.")
    return _join(
        segment(unit, "unit"), segment(experiment, "experiment"), "logs", segment(source, "source"), level
    )


def presence_topic(unit: str) -> str:
    return _join(segment(unit, "unit"), AGENT_SEGMENT, "presence")


def status_topic(unit: str) -> str:
    return _join(segment(unit, "unit"), AGENT_SEGMENT, "status")


# Subscription patterns (wildcards allowed here only).
def unit_wildcard(unit: str = "+") -> str:
    return f"{ROOT}/{unit}/#"


ALL_LOGS = f"{ROOT}/+/+/logs/#"
ALL_STATES = f"{ROOT}/+/+/+/$state"
ALL_PRESENCE = f"{ROOT}/+/{AGENT_SEGMENT}/presence"
ALL_STATUS = f"{ROOT}/+/{AGENT_SEGMENT}/status"


class Kind(enum.Enum):
    STATE = "state"
    STATE_SET = "state_set"
    SETTING = "setting"
    SETTING_SET = "setting_set"
    LOG = "log"
    PRESENCE = "presence"
    OTHER = "other"  # a valid Pioreactor topic we have no name for (pwms/channel_dc, led_change_events…)


class Topic(msgspec.Struct, frozen=True, kw_only=True):
    kind: Kind
    unit: str
    experiment: str | None = None
    job: str | None = None
    setting: str | None = None
    source: str | None = None
    level: str | None = None
    rest: tuple[str, ...] = ()


def parse(topic: str) -> Topic | None:
    """Parse a concrete (wildcard-free) topic; None when it is not in Pioreactor's layout."""
    parts = topic.split("/")
    if len(parts) < 3 or parts[0] != ROOT or any(not p or "+" in p or "#" in p or "\x00" in p for p in parts):
        return None
    unit = parts[1]
    if len(parts) == 4 and parts[2] == AGENT_SEGMENT and parts[3] == "presence":
        return Topic(kind=Kind.PRESENCE, unit=unit)
    exp, rest = parts[2], parts[3:]
    if len(rest) == 3 and rest[0] == "logs":
        level = rest[2].lower()
        if level in LOG_LEVELS:
            return Topic(kind=Kind.LOG, unit=unit, experiment=exp, source=rest[1], level=level)
    if len(rest) == 2 and not rest[0].startswith("$") and rest[0] != "logs":
        if rest[1] == "$state":
            return Topic(kind=Kind.STATE, unit=unit, experiment=exp, job=rest[0])
        if not rest[1].startswith("$"):
            return Topic(kind=Kind.SETTING, unit=unit, experiment=exp, job=rest[0], setting=rest[1])
    if len(rest) == 3 and rest[2] == "set" and not rest[0].startswith("$"):
        if rest[1] == "$state":
            return Topic(kind=Kind.STATE_SET, unit=unit, experiment=exp, job=rest[0])
        if not rest[1].startswith("$"):
            return Topic(kind=Kind.SETTING_SET, unit=unit, experiment=exp, job=rest[0], setting=rest[1])
    return Topic(kind=Kind.OTHER, unit=unit, experiment=exp, rest=tuple(rest))

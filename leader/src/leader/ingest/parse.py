"""Turn one MQTT message into rows for the store.

`Router.route(topic, payload, received_at)` answers a list of `(kind, row)` pairs; the row tuples are in
the column order the data-access modules insert (see `leader.db.logs`, `readings`, `job_states`,
`presence`). A payload that does not decode raises `Malformed`; a topic the router has no use for raises
`Unknown`. Both are counted and logged by the caller, never fatal.

Settings and readings are routed by the contrib descriptors: the published settings of known jobs and
automations, and the `mqtt_topic` / `payload_key` of chart descriptors.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Any

import msgspec

from cluster_schema.contrib import AutomationDescriptor, ChartDescriptor, JobDescriptor
from cluster_schema.mqtt import AgentPresence, LogEvent
from cluster_schema.topics import JOB_STATES, LOG_LEVELS

from .dosing import SUBSCRIPTION as DOSING_SUBSCRIPTION
from .dosing import TOPIC as DOSING_TOPIC
from .dosing import parse_dosing
from .payloads import Malformed, parse_time
from .status import parse_status

LOG, STATE, SETTING, READING, PRESENCE = "log", "state", "setting", "reading", "presence"
VALUE = "value"  # the last value of any `<job>/<setting>` topic, for profile expressions' lookups
ALL_SETTINGS = "pioreactor/+/+/+/+"
PRESENCE_STATES = ("online", "offline", "lost")

Record = tuple[str, tuple[Any, ...]]

_log_decoder = msgspec.json.Decoder(LogEvent)
_presence_decoder = msgspec.json.Decoder(AgentPresence)
_json = msgspec.json.Decoder()
_encode = msgspec.json.Encoder().encode
_LEVEL_NO = {name: i for i, name in enumerate(LOG_LEVELS)}
_STATES = frozenset(JOB_STATES)


class Unknown(ValueError):
    """The topic is not one the router stores."""


def level_number(level: str) -> int:
    return _LEVEL_NO[level]


def log_dedupe_key(topic: str, payload: bytes) -> int:
    """A signed 64-bit digest of the message: QoS 1 may deliver a log twice, the store keeps one.

    Two log lines identical in topic, text and millisecond timestamp are stored once - an accepted cost
    (as are identical lines without a timestamp of their own: see migration 0050).
    """
    h = hashlib.blake2b(topic.encode(), digest_size=8)
    h.update(b"\0")
    h.update(payload)
    return int.from_bytes(h.digest(), "big", signed=True)


def _dig(value: Any, path: tuple[str, ...]) -> Any:
    for key in path:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


def _coerce_setting(raw: bytes, type_: str) -> Any:
    """Pioreactor publishes settings as text: numbers, Python-style booleans, JSON or plain strings.

    The descriptor's type is a hint, not a gate: real pio publishes some `numeric` settings as JSON
    objects (`relative_intensity_of_ir_led`), and the value is worth keeping as sent.
    """
    text = raw.decode("utf-8", "replace")
    if type_ == "boolean" and text.strip().lower() in ("true", "false"):
        return text.strip().lower() == "true"
    if type_ == "numeric":
        try:
            return float(text)
        except ValueError:
            pass
    if type_ != "string":
        try:
            return _json.decode(raw)
        except msgspec.DecodeError:
            pass
    return text


class Series(msgspec.Struct, frozen=True):
    key: str
    path: tuple[str, ...]
    scale: float = 1.0


class Router:
    def __init__(
        self,
        charts: Iterable[ChartDescriptor] = (),
        jobs: Iterable[JobDescriptor] = (),
        automations: Iterable[tuple[str, AutomationDescriptor]] = (),
    ) -> None:
        self.charts = list(charts)
        self.readings: dict[str, list[Series]] = {}
        for chart in self.charts:
            path = tuple(p for p in chart.payload_key.split(".") if p)
            self.readings.setdefault(chart.mqtt_topic.strip("/"), []).append(
                Series(chart.key, path, chart.scale)
            )
        # (job, setting) -> setting type
        self.settings: dict[tuple[str, str], str] = {}
        for job in jobs:
            for s in job.published_settings:
                self.settings[(job.job_name, s.key)] = s.type
        for kind, automation in automations:  # published by the `<kind>_automation` job
            for s in automation.published_settings:
                self.settings.setdefault((f"{kind}_automation", s.key), s.type)

    def subscriptions(self) -> list[str]:
        """Topic filters (QoS 1) that bring everything this router stores."""
        from cluster_schema import topics

        # every `<job>/<setting>` (states included): profile expressions may look up any setting, not
        # only those a descriptor names; one filter, so no message arrives twice through overlaps
        subs = [topics.ALL_LOGS, topics.ALL_PRESENCE, topics.ALL_STATUS, ALL_SETTINGS, DOSING_SUBSCRIPTION]
        subs += sorted(f"{topics.ROOT}/+/+/{rel}" for rel in self.readings if rel.count("/") != 1)
        return list(dict.fromkeys(subs))

    def route(self, topic: str, payload: bytes, received_at: float) -> list[Record]:
        parts = topic.split("/")
        if len(parts) < 4 or parts[0] != "pioreactor" or not parts[1]:
            raise Unknown(topic)
        unit, exp = parts[1], parts[2]
        if exp == "$agent" and len(parts) == 4 and parts[3] == "presence":
            return self._presence(unit, payload, received_at)
        if exp == "$agent" and len(parts) == 4 and parts[3] == "status":
            return parse_status(unit, payload, received_at)
        if not exp or unit.startswith("$"):
            raise Unknown(topic)
        rest = parts[3:]
        out: list[Record] = []
        if rest[0] == "logs" and len(rest) == 3:
            return [self._log(topic, unit, exp, rest[1], rest[2], payload, received_at)]
        if len(rest) == 1 and rest[0] == DOSING_TOPIC:
            return [] if not payload else [parse_dosing(unit, exp, payload, received_at)]
        if len(rest) == 2 and rest[1] == "$state":
            state = payload.decode("utf-8", "replace").strip()
            if state not in _STATES:
                raise Malformed(f"unknown job state {state[:40]!r}")
            return [(STATE, (unit, exp, rest[0], state, received_at))]
        if len(rest) == 2 and rest[0] != "logs":
            setting_type = self.settings.get((rest[0], rest[1]))
            # an empty retained payload clears the setting (the job ended)
            value = None if not payload else _encode(_coerce_setting(payload, setting_type or "")).decode()
            if setting_type is not None:
                out.append((SETTING, (unit, exp, rest[0], rest[1], value, received_at)))
            out.append((VALUE, (unit, exp, rest[0], rest[1], value, received_at)))
        series = self.readings.get("/".join(rest))
        if series and payload:  # an empty payload is a cleared retained reading
            out += self._readings(series, unit, exp, payload, received_at)
        if not out and not series:
            raise Unknown(topic)
        return out

    def _log(
        self, topic: str, unit: str, exp: str, source: str, level: str, payload: bytes, received_at: float
    ) -> Record:
        level = level.lower()
        if level not in _LEVEL_NO:
            raise Unknown(topic)
        try:
            event = _log_decoder.decode(payload)
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            raise Malformed(str(exc)) from None
        ts_ms = round(parse_time(event.timestamp, received_at) * 1000)
        row = (
            ts_ms,
            unit,
            exp,
            event.task or None,
            event.source or source,
            _LEVEL_NO[level],
            event.message,
            log_dedupe_key(topic, payload),
            1 if event.timestamp else 0,
        )
        return (LOG, row)

    def _readings(
        self, series: list[Series], unit: str, exp: str, payload: bytes, received_at: float
    ) -> list[Record]:
        try:
            doc = _json.decode(payload)
        except msgspec.DecodeError as exc:
            raise Malformed(str(exc)) from None
        ts = received_at
        if isinstance(doc, dict) and isinstance(doc.get("timestamp"), str):
            ts = parse_time(doc["timestamp"], received_at)
        out: list[Record] = []
        for s in series:
            value = _dig(doc, s.path) if s.path else doc
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise Malformed(f"no number at `{'.'.join(s.path) or '$'}` for series {s.key}")
            out.append((READING, (s.key, exp, unit, ts, float(value) * s.scale)))
        return out

    def _presence(self, unit: str, payload: bytes, received_at: float) -> list[Record]:
        text = payload.strip()
        if not text:  # a cleared retained presence says nothing
            return []
        if text.startswith(b"{"):
            try:
                msg = _presence_decoder.decode(payload)
            except (msgspec.DecodeError, msgspec.ValidationError) as exc:
                raise Malformed(str(exc)) from None
            status: str = msg.status
            # the time the agent said it came online: a true sighting, even when replayed as retained
            online = msg.timestamp and msg.status == "online"
            stamped = parse_time(msg.timestamp, received_at) if online else None
        else:
            status, stamped = text.decode("utf-8", "replace"), None
        if status not in PRESENCE_STATES:
            raise Malformed(f"unknown presence {status[:40]!r}")
        # changed_at is the arrival time, not the payload's: a last will carries the time it was set, at
        # connection. The 4th element is the online message's own timestamp (or None), for last_seen.
        return [(PRESENCE, (unit, status, received_at, stamped))]

"""What the agent knows from MQTT: its own unit's retained job states and settings, kept in memory.

One paho client per process (`MqttLink`) subscribes to `pioreactor/<unit>/#` and feeds a `Mirror`. The
client reconnects by itself; while the broker is down the mirror keeps its last values and the HTTP API
keeps answering. Each entry remembers when it arrived, so a waiter can ask for a value that came *after*
it published (a job's `ready`, a setting's echo) and not be fooled by an old retained one.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import msgspec
from paho.mqtt import client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from cluster_schema import topics

from .config import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Entry:
    payload: str
    at: float  # time.monotonic() of arrival
    wall: float = 0.0  # time.time() of arrival (to compare with the registry's timestamps)


def parse_value(payload: str) -> Any:
    """A published value as JSON-ish Python: numbers, objects, Pioreactor's `True`/`False`, else the text."""
    if payload in ("True", "False"):
        return payload == "True"
    try:
        return msgspec.json.decode(payload)
    except msgspec.DecodeError:
        return payload


def format_value(value: Any) -> str:
    """How a setting is sent on `…/set` (Pioreactor casts the text by the setting's datatype)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def same_value(wanted: Any, payload: str) -> bool:
    got = parse_value(payload)
    if isinstance(wanted, bool) or isinstance(got, bool):
        return str(wanted).lower() == str(got).lower()
    if isinstance(wanted, (int, float)) or isinstance(got, (int, float)):
        try:
            return abs(float(wanted) - float(got)) <= 1e-9 * max(1.0, abs(float(wanted)))
        except (TypeError, ValueError):
            return False
    return format_value(wanted) == payload


class Mirror:
    def __init__(self, unit: str):
        self.unit = unit
        self.states: dict[tuple[str, str], Entry] = {}  # (experiment, job) -> $state
        self.settings: dict[tuple[str, str, str], Entry] = {}  # (experiment, job, setting) -> value
        self.changed = threading.Condition()

    def feed(self, topic: str, payload: bytes) -> None:
        t = topics.parse(topic)
        if t is None or t.unit != self.unit or t.experiment is None or t.job is None:
            return
        text = payload.decode("utf-8", errors="replace")
        with self.changed:
            if t.kind is topics.Kind.STATE:
                self.states[(t.experiment, t.job)] = Entry(text, time.monotonic(), time.time())
            elif t.kind is topics.Kind.SETTING and t.setting is not None:
                key = (t.experiment, t.job, t.setting)
                if text:
                    self.settings[key] = Entry(text, time.monotonic(), time.time())
                else:
                    self.settings.pop(key, None)  # an empty retained message clears a setting
            else:
                return
            self.changed.notify_all()

    def job_entries(self, experiment: str, job: str) -> dict[str, Entry]:
        """The job's settings as last seen here, plus its `$state` under that name."""
        with self.changed:
            found = {s: e for (exp, j, s), e in self.settings.items() if exp == experiment and j == job}
            state = self.states.get((experiment, job))
            if state is not None:
                found["$state"] = state
            return found

    def state(self, experiment: str, job: str) -> Entry | None:
        with self.changed:
            return self.states.get((experiment, job))

    def setting(self, experiment: str, job: str, setting: str) -> Entry | None:
        with self.changed:
            return self.settings.get((experiment, job, setting))

    def wait(self, predicate: Callable[[], bool], timeout: float) -> bool:
        """Wait until predicate() holds (re-checked on every message and at least every 50 ms)."""
        deadline = time.monotonic() + timeout
        with self.changed:
            while not predicate():
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self.changed.wait(min(left, 0.05))
        return True


class MqttLink:
    """A paho client on its own thread: subscribes for the mirror, publishes for the agent."""

    def __init__(self, settings: Settings, role: str, mirror: Mirror):
        self.settings = settings
        self.role = role
        self.mirror = mirror
        self.on_connect: list[Callable[[MqttLink], None]] = []
        self.connected = threading.Event()
        self._will: tuple[str, bytes] | None = None
        self._stopping = False
        self._client: mqtt.Client | None = None
        self._lock = threading.Lock()

    def will(self, topic: str, payload: bytes) -> None:
        self._will = (topic, payload)

    @property
    def client(self) -> mqtt.Client:
        if self._client is None:
            raise RuntimeError("MqttLink not started")
        return self._client

    @property
    def started(self) -> bool:
        return self._client is not None

    def start(self) -> MqttLink:
        """Connect in the background (idempotent). Built here, not in __init__, so a process that forks
        after building the app (gunicorn's preload) starts its client in the child, with the child's pid."""
        with self._lock:
            if self._client is not None:
                return self
            client = mqtt.Client(
                CallbackAPIVersion.VERSION2,
                client_id=f"unit_agent-{self.settings.unit}-{self.role}-{os.getpid()}",
                clean_session=True,
            )
            if self.settings.mqtt_username:
                client.username_pw_set(self.settings.mqtt_username, self.settings.mqtt_password or None)
            if self._will is not None:
                client.will_set(self._will[0], self._will[1], qos=1, retain=True)
            client.reconnect_delay_set(min_delay=1, max_delay=2)  # a LAN broker: retrying is cheap
            client.max_queued_messages_set(1000)
            client.on_connect = self._connected
            client.on_disconnect = self._disconnected
            client.on_message = lambda _c, _u, msg: self.mirror.feed(msg.topic, bytes(msg.payload))
            self._client = client  # before connecting: the on-connect hooks publish through it
            host, port = self.settings.mqtt_host_port
            client.connect_async(host, port, keepalive=15)
            client.loop_start()
        return self

    def stop(self) -> None:
        self._stopping = True
        if self._client is not None:
            self._client.disconnect()
            self._client.loop_stop()

    def publish(self, topic: str, payload: str | bytes, qos: int = 1, retain: bool = False) -> bool:
        if not self.connected.is_set():
            return False
        info = self.client.publish(topic, payload, qos=qos, retain=retain)
        return info.rc == mqtt.MQTT_ERR_SUCCESS

    def _connected(self, client: mqtt.Client, _u: object, _f: object, reason: Any, _p: object) -> None:
        if getattr(reason, "is_failure", False):
            log.warning("MQTT connection refused: %s", reason)
            return
        client.subscribe(topics.unit_wildcard(self.settings.unit), qos=1)
        self.connected.set()
        for hook in self.on_connect:
            try:
                hook(self)
            except Exception:
                log.exception("MQTT on-connect hook failed")

    def _disconnected(self, _c: mqtt.Client, _u: object, _f: object, reason: Any, _p: object) -> None:
        if self.connected.is_set() and not self._stopping:
            log.warning("MQTT connection lost (%s); reconnecting", reason)
        self.connected.clear()

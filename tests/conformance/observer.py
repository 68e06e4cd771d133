"""What a control plane can observe of a unit over MQTT: live messages in order, and the retained state."""

from __future__ import annotations

import json
import threading
import time
import uuid
from dataclasses import dataclass
from typing import Any

import paho.mqtt.client as paho

from devcluster.procs import wait_for


@dataclass(frozen=True)
class Message:
    topic: str
    payload: str
    retain: bool
    at: float


class Observer:
    """Records every message under `pattern` from the moment it is created (retained ones flagged)."""

    def __init__(self, host: str, port: int, pattern: str):
        self.messages: list[Message] = []
        self._lock = threading.Lock()
        self._subscribed = threading.Event()
        self.client = paho.Client(
            paho.CallbackAPIVersion.VERSION2, client_id=f"observer-{uuid.uuid4().hex[:8]}"
        )
        self.client.on_message = self._on_message
        self.client.on_subscribe = lambda *a: self._subscribed.set()
        # (re)subscribe on every connect: the observer follows a broker restart
        self.client.on_connect = lambda client, *a: client.subscribe(pattern, qos=2)
        self.client.reconnect_delay_set(min_delay=1, max_delay=2)
        self.client.connect(host, port)
        self.client.loop_start()
        if not self._subscribed.wait(5):
            raise TimeoutError("observer could not subscribe")

    def _on_message(self, client: Any, userdata: Any, msg: paho.MQTTMessage) -> None:
        with self._lock:
            self.messages.append(
                Message(msg.topic, msg.payload.decode(errors="replace"), bool(msg.retain), time.time())
            )

    def sync(self, topic: str, timeout: float = 5.0) -> None:
        """Round-trip a marker through the broker: afterwards every message the broker had already
        accepted (e.g. a stopped job's acknowledged last state) has been recorded."""
        marker = f"{topic}/{uuid.uuid4().hex}"
        self.client.publish(marker, b"sync", qos=1)
        wait_for(lambda: bool(self.live(marker)), timeout, what="observer sync")

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()

    def live(self, topic: str | None = None) -> list[Message]:
        with self._lock:
            return [
                m
                for m in self.messages
                if not m.retain and (m.topic == topic if topic else "/observer-sync/" not in m.topic)
            ]

    def values(self, topic: str) -> list[str]:
        """Non-empty live payloads on one topic, in order."""
        return [m.payload for m in self.live(topic) if m.payload]

    def logs(self, prefix: str) -> list[dict[str, Any]]:
        return [json.loads(m.payload) for m in self.live() if m.topic.startswith(prefix + "/logs/")]

    def wait_value(self, topic: str, value: str, timeout: float = 15.0) -> None:
        wait_for(
            lambda: value in self.values(topic),
            timeout,
            what=f"{topic} = {value!r} (saw {self.values(topic)})",
        )

    def wait_log(self, prefix: str, message: str, timeout: float = 15.0) -> dict[str, Any]:
        def find() -> dict[str, Any] | None:
            return next((e for e in self.logs(prefix) if message in e["message"]), None)

        found: dict[str, Any] = wait_for(find, timeout, what=f"log containing {message!r}")
        return found


def retained(host: str, port: int, pattern: str, timeout: float = 5.0) -> dict[str, str]:
    """The broker's retained messages under `pattern` (a fresh subscriber; a sentinel marks the end)."""
    sentinel = f"observer/sentinel/{uuid.uuid4().hex}"
    seen: dict[str, str] = {}
    done = threading.Event()
    client = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id=f"retained-{uuid.uuid4().hex[:8]}")

    def on_message(c: Any, u: Any, msg: paho.MQTTMessage) -> None:
        if msg.topic == sentinel:
            done.set()
        elif msg.retain and msg.payload:
            seen[msg.topic] = msg.payload.decode(errors="replace")

    subscribed = threading.Event()
    client.on_message = on_message
    client.on_subscribe = lambda *a: subscribed.set()
    client.connect(host, port)
    client.loop_start()
    try:
        client.subscribe([(pattern, 1), (sentinel, 1)])
        if not subscribed.wait(timeout):
            raise TimeoutError("retained(): no SUBACK")
        client.publish(sentinel, b"end", qos=1)
        if not done.wait(timeout):
            raise TimeoutError("retained(): sentinel never came back")
        return dict(seen)
    finally:
        client.disconnect()
        client.loop_stop()

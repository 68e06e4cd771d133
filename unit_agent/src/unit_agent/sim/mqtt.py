"""One MQTT connection per simulated job (paho), with the job's last will and a drain on close."""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Callable
from typing import Any

import paho.mqtt.client as paho

QOS_SETTING = 2  # real pio publishes settings and $state at QoS 2, retained; logs at QoS 0


def encode(value: Any) -> bytes:
    """A value as real pio puts it on the wire: None clears, bools as True/False, structures as JSON."""
    if value is None:
        return b""
    if isinstance(value, bytes):
        return value
    if isinstance(value, (dict, list)):
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()
    return str(value).encode()


class Link:
    def __init__(self, host: str, port: int, client_id: str, will: tuple[str, str] | None = None):
        self.host, self.port = host, port
        self.client = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=True)
        self.client.reconnect_delay_set(min_delay=1, max_delay=5)
        if will:
            self.client.will_set(will[0], will[1], qos=QOS_SETTING, retain=True)
        self._connected = threading.Event()
        self._pending: list[paho.MQTTMessageInfo] = []
        self._subscriptions: list[tuple[str, int]] = []
        self._lock = threading.Lock()
        self.on_reconnect: Callable[[], None] | None = None
        self.client.on_connect = self._on_connect
        self._gone = threading.Event()
        self.client.on_disconnect = lambda *args: self._gone.set()

    def _on_connect(self, client: Any, userdata: Any, flags: Any, reason: Any, properties: Any) -> None:
        if reason.is_failure:
            return
        if not self._connected.is_set():
            self._connected.set()
            return
        # paho reconnects by itself after a broker restart or a network blip; a clean session has
        # forgotten our subscriptions, and the job republishes its state like real pio does
        for topic, qos in self._subscriptions:
            client.subscribe(topic, qos=qos)
        if self.on_reconnect:
            self.on_reconnect()

    def connect(self, timeout: float = 5.0) -> None:
        """Connect or raise ConnectionError (the caller turns it into real pio's start-up failure)."""
        try:
            self.client.connect(self.host, self.port, keepalive=60)
        except OSError as e:
            raise ConnectionError(f"Unable to connect to MQTT broker at {self.host}:{self.port}: {e}") from e
        self.client.loop_start()
        if not self._connected.wait(timeout):
            self.client.loop_stop()
            raise ConnectionError(f"MQTT broker at {self.host}:{self.port} did not accept the connection.")

    def publish(self, topic: str, value: Any, qos: int = 0, retain: bool = False) -> None:
        info = self.client.publish(topic, encode(value), qos=qos, retain=retain)
        if qos:
            with self._lock:
                self._pending = [m for m in self._pending if not m.is_published()]
                self._pending.append(info)

    def subscribe(self, topic: str, callback: Callable[[paho.MQTTMessage], None], qos: int = 1) -> None:
        def _cb(client: Any, userdata: Any, message: paho.MQTTMessage) -> None:
            try:
                callback(message)
            except Exception as e:  # a bad message must never kill the network thread
                import sys

                print(f"pio-sim: error handling {message.topic}: {e!r}", file=sys.stderr)

        self.client.message_callback_add(topic, _cb)
        self._subscriptions.append((topic, qos))
        self.client.subscribe(topic, qos=qos)

    def close(self, timeout: float = 3.0) -> None:
        """Wait for QoS>0 messages to be acknowledged, then disconnect cleanly (no last will)."""
        deadline = time.monotonic() + timeout
        if self._subscriptions and self.client.is_connected():
            # Stop the inflow first: closing a socket with unread data makes the kernel send a reset,
            # the broker may then drop our DISCONNECT and publish the will (`lost`) over `disconnected`.
            unsubscribed = threading.Event()
            self.client.on_unsubscribe = lambda *args: unsubscribed.set()
            self.client.unsubscribe([topic for topic, _ in self._subscriptions])
            unsubscribed.wait(timeout / 2)
        with self._lock:
            pending = list(self._pending)
        for info in pending:
            left = deadline - time.monotonic()
            if left <= 0 or not self.client.is_connected():
                break  # a broker that is gone will not acknowledge anything
            with contextlib.suppress(RuntimeError, ValueError):
                info.wait_for_publish(left)
        # DISCONNECT must reach the broker before the socket closes, or the broker sends the will (lost)
        self._gone.clear()
        self.client.disconnect()
        self._gone.wait(max(deadline - time.monotonic(), 1.0))
        self.client.loop_stop()

"""The MQTT side of the ingest: a persistent QoS-1 session whose messages are acked only once stored.

`clean_session=False` with a fixed client id makes the broker queue what is published while the ingest
is down; `manual_ack=True` withholds the PUBACK until the writer has committed the message's batch. A
message received on an earlier connection is never acked on a later one: the broker redelivers it on
reconnect (same packet id) and the redelivered copy is acked after it is stored.
"""

from __future__ import annotations

import logging
import threading
import time

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from .parse import Router
from .writer import BatchWriter, Message

log = logging.getLogger("leader.ingest")


class IngestClient:
    def __init__(
        self,
        host: str,
        port: int,
        client_id: str,
        router: Router,
        writer: BatchWriter,
        *,
        username: str | None = None,
        password: str | None = None,
        keepalive: int = 30,
    ) -> None:
        self.router = router
        self.writer = writer
        self.host, self.port, self.keepalive = host, port, keepalive
        self.connected = threading.Event()
        self._generation = 0
        self._lock = threading.Lock()
        client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=client_id,
            clean_session=False,
            protocol=mqtt.MQTTv311,
            manual_ack=True,
        )
        if username:
            client.username_pw_set(username, password)
        client.reconnect_delay_set(min_delay=1, max_delay=5)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        self.client = client

    def start(self) -> IngestClient:
        self.client.connect_async(self.host, self.port, self.keepalive)
        self.client.loop_start()
        return self

    def stop(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()

    def _on_connect(self, client: mqtt.Client, userdata, flags, reason_code, properties) -> None:
        if reason_code.is_failure:
            log.warning("ingest: broker refused the connection: %s", reason_code)
            return
        with self._lock:
            self._generation += 1
        # subscribing again is harmless for a kept session and picks up descriptor changes
        client.subscribe([(topic, 1) for topic in self.router.subscriptions()])
        self.connected.set()
        log.info(
            "ingest: connected to %s:%s (session present: %s)", self.host, self.port, flags.session_present
        )

    def _on_disconnect(self, client: mqtt.Client, userdata, flags, reason_code, properties) -> None:
        self.connected.clear()
        with self._lock:
            self._generation += 1  # acks for what was received so far would reach the wrong session state
        if reason_code != 0:
            log.warning("ingest: disconnected from broker (%s); reconnecting", reason_code)

    def _on_message(self, client: mqtt.Client, userdata, msg: mqtt.MQTTMessage) -> None:
        ack = None
        if msg.qos > 0:
            ack = self._acker(msg.mid, msg.qos, self._generation)
        self.writer.put(Message(msg.topic, bytes(msg.payload), time.time(), bool(msg.retain), ack))

    def _acker(self, mid: int, qos: int, generation: int):
        def ack() -> None:
            if generation == self._generation:
                self.client.ack(mid, qos)

        return ack

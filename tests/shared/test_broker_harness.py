"""The harness itself: the broker fixture is a real broker that delivers retained QoS-1 messages."""

from __future__ import annotations

import threading
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest

from devcluster.broker import Broker
from devcluster.procs import wait_for


def _client(broker: Broker) -> mqtt.Client:
    c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
    c.connect(broker.host, broker.port)
    c.loop_start()
    return c


def test_broker_delivers_retained_message(mqtt_broker: Broker) -> None:
    pub = _client(mqtt_broker)
    pub.publish("pioreactor/u1/e1/stirring/$state", "ready", qos=1, retain=True).wait_for_publish(5)
    got: list[str] = []
    lock = threading.Lock()
    sub = _client(mqtt_broker)

    def on_message(_c: object, _u: object, msg: mqtt.MQTTMessage) -> None:
        with lock:
            got.append(msg.payload.decode())

    sub.on_message = on_message
    sub.subscribe("pioreactor/u1/e1/stirring/$state", qos=1)
    wait_for(lambda: got == ["ready"], 20, what="retained state")
    for c in (pub, sub):
        c.loop_stop()
        c.disconnect()


def test_broker_restart_keeps_port(fresh_broker: Broker) -> None:
    port = fresh_broker.port
    fresh_broker.restart()
    c = _client(fresh_broker)
    assert fresh_broker.port == port
    info = c.publish("x/y", "1", qos=1)
    info.wait_for_publish(5)
    assert info.is_published()  # PUBACK from the restarted broker
    c.loop_stop()
    c.disconnect()


def test_embedded_broker_fallback_works(tmp_path: Path) -> None:
    """The fallback for machines without mosquitto: retained QoS-1 messages reach a late subscriber."""
    pytest.importorskip("amqtt", reason="amqtt (the embedded broker) is not installed")
    broker = Broker(tmp_path, embedded=True).start()
    try:
        test_broker_delivers_retained_message(broker)
    finally:
        broker.stop()

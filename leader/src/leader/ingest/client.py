"""The MQTT side of the ingest: a persistent QoS-1 session whose messages are acked only once stored.

`clean_session=False` with a fixed client id makes the broker queue what is published while the ingest
is down; `manual_ack=True` withholds the PUBACK until the writer has committed the message's batch. A
message received on an earlier connection is never acked on a later one: the broker redelivers it on
reconnect (same packet id) and the redelivered copy is acked after it is stored.
"""

from __future__ import annotations

import logging
import struct
import threading
import time
from collections.abc import Callable
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from .parse import Router
from .writer import BatchWriter, Message

log = logging.getLogger("leader.ingest")

_READ_SIZE = 1 << 16
_PUBACK = struct.Struct("!BBH")
_U16 = struct.Struct("!H")
_DRAIN_PACKETS = 1000  # most buffered packets handled per network-loop turn (acks and pings go between)


class _BufferedSocket:
    """The broker connection read 64 KiB at a time.

    paho reads each packet with three `recv` calls (type byte, length, body) after a `select`; on a
    backlog of small messages those syscalls are most of the ingest's cost. paho asks a socket for
    `pending()` bytes (its hook for TLS buffers) and reads those without waiting, so serving the
    calls from one buffer keeps paho's logic intact and roughly doubles the messages/s it delivers.
    """

    def __init__(self, sock: Any) -> None:
        self._sock = sock
        self._buf = b""
        self._off = 0

    def recv(self, size: int) -> bytes:
        if self._off >= len(self._buf):
            data = self._sock.recv(_READ_SIZE)  # BlockingIOError when nothing is there: paho expects it
            if not data:
                return b""
            self._buf, self._off = data, 0
        out = self._buf[self._off : self._off + size]
        self._off += len(out)
        return out

    def peek_frame(self) -> tuple[int, bytes, int] | None:
        """(first byte, body, total size) of the packet at the head of the buffer, if all of it is here."""
        buf, off = self._buf, self._off
        end_of_buf = len(buf)
        pos, length, mult = off + 1, 0, 1
        while True:
            if pos >= end_of_buf or pos - off > 4:  # more than 4 length bytes: paho reports it
                return None
            byte = buf[pos]
            pos += 1
            length += (byte & 127) * mult
            mult *= 128
            if not byte & 128:
                break
        end = pos + length
        if end > end_of_buf:
            return None
        return buf[off], buf[pos:end], end - off

    def skip(self, size: int) -> None:
        self._off += size

    def pending(self) -> int:
        return len(self._buf) - self._off

    def send(self, data: bytes | bytearray) -> int:
        return int(self._sock.send(data))

    def fileno(self) -> int:
        return int(self._sock.fileno())

    def setblocking(self, flag: bool) -> None:
        self._sock.setblocking(flag)

    def close(self) -> None:
        self._sock.close()


def _decode_publish(command: int, packet: bytes | bytearray) -> tuple[str, bytes, int, int, bool] | None:
    """(topic, payload, mid, qos, retained) of a QoS 0/1 MQTT 3.1.1 PUBLISH; None for anything else."""
    qos = (command & 0x06) >> 1
    if qos > 1:
        return None
    try:
        (length,) = _U16.unpack_from(packet, 0)
        end = 2 + length
        topic = packet[2:end].decode()
        mid = 0
        if qos:
            (mid,) = _U16.unpack_from(packet, end)
            end += 2
    except (struct.error, UnicodeDecodeError):
        return None
    if not topic or end > len(packet) or len(topic) != length:
        return None
    return topic, bytes(packet[end:]), mid, qos, bool(command & 0x01)


class _Client(mqtt.Client):
    # (topic, payload, mid, qos, retained) for each QoS 0/1 PUBLISH, instead of on_message
    deliver: Callable[[str, bytes, int, int, bool], None] | None = None

    def _handle_publish(self) -> mqtt.MQTTErrorCode:
        """Decode a QoS 0/1 PUBLISH straight into `deliver`.

        paho builds an MQTTMessage, formats a debug line and walks its topic-callback matcher for every
        message - most of the network thread's time on a stream of small messages, which is time the
        GIL is not free for the writer. In manual-ack mode paho does nothing else for QoS 0/1 (no
        PUBACK), so handing over the decoded fields keeps its protocol state as it was.
        """
        deliver = self.deliver
        decoded = None
        if deliver is not None and self._protocol != mqtt.MQTTv5:
            decoded = _decode_publish(self._in_packet["command"], self._in_packet["packet"])
        if deliver is None or decoded is None:
            return super()._handle_publish()  # paho reports (or refuses) what it cannot decode
        deliver(*decoded)
        return mqtt.MQTT_ERR_SUCCESS

    def _deliver_buffered(self, sock: _BufferedSocket) -> int:
        """Deliver the complete PUBLISH packets at the head of the buffer without paho's byte-by-byte
        framing (a `recv` call per type byte, per length byte and per body); stops at anything else,
        which paho then reads as usual. Answers how many it delivered."""
        deliver = self.deliver
        if deliver is None or self._protocol == mqtt.MQTTv5 or self._in_packet["command"] != 0:
            return 0  # paho is part-way through a packet: let it finish
        done = 0
        while done < _DRAIN_PACKETS:
            frame = sock.peek_frame()
            if frame is None or frame[0] >> 4 != 3:  # 3: PUBLISH
                break
            decoded = _decode_publish(frame[0], frame[1])
            if decoded is None:
                break
            sock.skip(frame[2])
            deliver(*decoded)
            done += 1
        if done:
            with self._msgtime_mutex:
                self._last_bytes_received = mqtt.time_func()
        return done

    def _create_socket(self) -> Any:
        return _BufferedSocket(super()._create_socket())

    def loop_read(self, max_packets: int = 1) -> mqtt.MQTTErrorCode:
        """Handle every packet already buffered, not one per `select` (paho reads one at a time)."""
        rc = super().loop_read(max_packets)
        for _ in range(_DRAIN_PACKETS):
            sock = self._sock
            if rc != mqtt.MQTT_ERR_SUCCESS or not isinstance(sock, _BufferedSocket) or not sock.pending():
                break
            if self._deliver_buffered(sock) and not sock.pending():
                break
            rc = super().loop_read(max_packets)
        return rc

    def ack_many(self, mids: list[int]) -> None:
        """PUBACK each message id, all in one write: `ack()` would wake the network thread per message.

        A run of PUBACK packets is queued as one outgoing buffer (paho writes a buffer and, for
        anything but PUBLISH and DISCONNECT, does nothing else with it).
        """
        if mids and self._sock is not None:
            packet = b"".join([_PUBACK.pack(mqtt.PUBACK, 2, mid) for mid in mids])
            self._packet_queue(mqtt.PUBACK, packet, 0, 1)


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
        self.subscribed = threading.Event()  # the broker answered this connection's subscriptions
        self._generation = 0  # changed and read on paho's network thread; read by `ack`
        self._subscriptions: list[str] = []
        client = _Client(
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
        client.on_connect_fail = self._on_connect_fail
        client.on_subscribe = self._on_subscribe
        client.on_message = self._on_message
        client.deliver = self._deliver
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
        self._generation += 1
        # subscribing again is harmless for a kept session and picks up descriptor changes
        self._subscriptions = self.router.subscriptions()
        client.subscribe([(topic, 1) for topic in self._subscriptions])
        self.connected.set()
        log.info(
            "ingest: connected to %s:%s (session present: %s)", self.host, self.port, flags.session_present
        )

    def use(self, router: Router) -> None:
        """Switch to another router's subscriptions on the live connection (and every later one)."""
        old = set(self._subscriptions)
        self.router = router
        new = router.subscriptions()
        if self.connected.is_set():
            gone = sorted(old - set(new))
            if gone:
                self.client.unsubscribe(gone)
            self._subscriptions = new
            self.client.subscribe([(topic, 1) for topic in new])

    def _on_subscribe(self, client: mqtt.Client, userdata, mid, reason_codes, properties) -> None:
        refused = [t for t, rc in zip(self._subscriptions, reason_codes, strict=False) if rc.is_failure]
        if refused:
            log.error("ingest: the broker refused subscriptions (check its ACL): %s", ", ".join(refused))
        self.subscribed.set()

    def _on_connect_fail(self, client: mqtt.Client, userdata) -> None:
        log.warning("ingest: cannot reach the broker at %s:%s; retrying", self.host, self.port)

    def _on_disconnect(self, client: mqtt.Client, userdata, flags, reason_code, properties) -> None:
        self.connected.clear()
        self.subscribed.clear()
        self._generation += 1  # what was received so far is redelivered on the next connection
        if reason_code != 0:
            log.warning("ingest: disconnected from broker (%s); reconnecting", reason_code)

    def _on_message(self, client: mqtt.Client, userdata, msg: mqtt.MQTTMessage) -> None:
        # (mid, qos, connection generation): acked by `ack` once the message's batch is committed
        token = (msg.mid, msg.qos, self._generation) if msg.qos else None
        self.writer.put(Message(msg.topic, bytes(msg.payload), time.time(), bool(msg.retain), token))

    def _deliver(self, topic: str, payload: bytes, mid: int, qos: int, retained: bool) -> None:
        token = (mid, qos, self._generation) if qos else None
        self.writer.put(Message(topic, payload, time.time(), retained, token))

    def ack(self, messages: list[Message]) -> None:
        """Acknowledge committed messages received on the current connection (all subscriptions are
        QoS 1, so the broker sends nothing above QoS 1)."""
        generation = self._generation
        self.client.ack_many([m.ack[0] for m in messages if m.ack is not None and m.ack[2] == generation])

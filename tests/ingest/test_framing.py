"""The ingest's own PUBLISH framing (leader.ingest.client): what it delivers, and what it leaves to paho."""

from __future__ import annotations

import struct

from leader.ingest.client import _BufferedSocket, _decode_publish


def publish(topic: str, payload: bytes, *, qos: int = 1, mid: int = 7, retain: bool = False) -> bytes:
    body = struct.pack("!H", len(topic.encode())) + topic.encode()
    if qos:
        body += struct.pack("!H", mid)
    body += payload
    length, rem = len(body), b""
    while True:  # MQTT's variable-length "remaining length"
        byte, length = length % 128, length // 128
        rem += bytes([byte | (128 if length else 0)])
        if not length:
            break
    return bytes([0x30 | (qos << 1) | int(retain)]) + rem + body


class FakeSock:
    def __init__(self, data: bytes) -> None:
        self.data = data

    def recv(self, size: int) -> bytes:
        out, self.data = self.data[:size], self.data[size:]
        return out


def buffered(data: bytes) -> _BufferedSocket:
    sock = _BufferedSocket(FakeSock(data))
    sock.recv(0)  # fills the buffer
    return sock


def test_decodes_qos1_and_qos0_with_their_flags() -> None:
    frame = publish("pioreactor/u1/e/logs/app/info", b'{"message":"hi"}', qos=1, mid=513, retain=True)
    sock = buffered(frame)
    got = sock.peek_frame()
    assert got is not None and got[2] == len(frame)
    topic = "pioreactor/u1/e/logs/app/info"
    assert _decode_publish(got[0], got[1]) == (topic, b'{"message":"hi"}', 513, 1, True)
    zero = publish("a/b", b"", qos=0)
    assert _decode_publish(zero[0], zero[2:]) == ("a/b", b"", 0, 0, False)


def test_a_long_packet_uses_a_multi_byte_length() -> None:
    frame = publish("t", b"x" * 70_000)
    sock = _BufferedSocket(FakeSock(frame))
    sock.recv(0)
    assert sock.peek_frame() is None  # only the first 64 KiB are buffered: paho reads the rest itself
    whole = _BufferedSocket(FakeSock(b""))
    whole._buf = frame
    got = whole.peek_frame()
    assert got is not None and got[2] == len(frame) and len(got[1]) == len(frame) - 4


def test_partial_frames_and_qos2_are_left_to_paho() -> None:
    frame = publish("t/x", b"123")
    assert buffered(frame[:-1]).peek_frame() is None
    assert buffered(frame[:1]).peek_frame() is None
    two = publish("t/x", b"123", qos=2)
    assert _decode_publish(two[0], two[2:]) is None
    bad_topic = bytearray(frame)
    bad_topic[4] = 0xFF  # not UTF-8
    assert _decode_publish(bad_topic[0], bytes(bad_topic[2:])) is None


def test_consecutive_frames_are_walked_one_by_one() -> None:
    frames = [publish(f"t/{i}", str(i).encode(), mid=i + 1) for i in range(3)]
    sock = buffered(b"".join(frames))
    seen = []
    while (frame := sock.peek_frame()) is not None:
        seen.append(_decode_publish(frame[0], frame[1]))
        sock.skip(frame[2])
    assert [(t, p, m) for t, p, m, _q, _r in seen] == [("t/0", b"0", 1), ("t/1", b"1", 2), ("t/2", b"2", 3)]
    assert sock.pending() == 0

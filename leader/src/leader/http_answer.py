"""Reading one HTTP/1.1 answer from the bytes received so far (for agent_connections).

An answer ends by Content-Length, by chunked transfer coding, or (neither given) when the agent closes the
connection. Informational answers (1xx) are skipped. Parsed bytes are taken off the buffer only once the
whole answer is there, so a caller can call `parse` again on each arrival.
"""

from __future__ import annotations

from typing import NamedTuple

MAX_HEAD = 64 * 1024


class Incomplete(Exception):
    """More bytes are needed."""


class Answer(NamedTuple):  # a tuple: made once per agent request, cheaper than a frozen dataclass
    status: int
    body: bytes
    close: bool  # the agent closes the connection after this answer


def parse(buf: bytearray, *, at_eof: bool) -> Answer:
    """The first whole answer in `buf` (removed from it); Incomplete, or ValueError when malformed."""
    while True:
        end = buf.find(b"\r\n\r\n")
        if end < 0:
            if len(buf) > MAX_HEAD:
                raise ValueError("header block too large")
            raise Incomplete
        head = bytes(buf[:end]).lower()  # header names are case-insensitive; values we read are tokens
        if not head.startswith(b"http/1.") or not head[9:12].isdigit():
            raise ValueError(f"bad status line {head[:80]!r}")
        status = int(head[9:12])
        if 100 <= status < 200:
            del buf[: end + 4]
            continue
        break
    headers = _headers(head)
    connection = headers.get(b"connection", b"")
    close = b"close" in connection or (head[5:8] == b"1.0" and b"keep-alive" not in connection)
    start = end + 4
    if status in (204, 304):
        size, body = start, b""
    elif b"chunked" in headers.get(b"transfer-encoding", b""):
        size, body = _chunked(buf, start)
    elif b"content-length" in headers:
        length = int(headers[b"content-length"])
        if length < 0:
            raise ValueError("negative Content-Length")
        if len(buf) < start + length:
            raise Incomplete
        size, body = start + length, bytes(buf[start : start + length])
    elif at_eof:
        size, body, close = len(buf), bytes(buf[start:]), True
    else:
        raise Incomplete
    del buf[:size]
    return Answer(status, body, close)


def _headers(head: bytes) -> dict[bytes, bytes]:
    headers = {}
    for line in head.split(b"\r\n")[1:]:
        name, sep, value = line.partition(b":")
        if not sep:
            raise ValueError(f"bad header line {line[:80]!r}")
        headers[name.strip()] = value.strip()
    return headers


def _chunked(buf: bytearray, pos: int) -> tuple[int, bytes]:
    """(end of the answer, body) of a chunked body starting at `pos`; trailers are skipped."""
    parts: list[bytes] = []
    while True:
        eol = buf.find(b"\r\n", pos)
        if eol < 0:
            raise Incomplete
        size = int(bytes(buf[pos:eol]).split(b";")[0].strip() or b"x", 16)
        pos = eol + 2
        if size == 0:
            end = buf.find(b"\r\n\r\n", pos - 2)  # the empty line after any trailers
            if end < 0:
                raise Incomplete
            return end + 4, b"".join(parts)
        if len(buf) < pos + size + 2:
            raise Incomplete
        parts.append(bytes(buf[pos : pos + size]))
        pos += size + 2

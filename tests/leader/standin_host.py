"""Many stand-in agents on one asyncio event loop: for fan-outs to hundreds or thousands of units.

Each unit has its own listening socket (its own port, as a real agent has) and its own Behaviour (the
same answers as StandIn); a request is answered after the unit's delay, without a thread. Why: 1,000
ThreadingHTTPServers in one process (a thread per connection, all waking at once) cost more CPU than the
leader they were measuring; real agents each have a machine of their own. Speaks HTTP/1.1 with keep-alive
and Content-Length, as gunicorn does.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from tests.leader.standin import Behaviour

REASONS = {200: "OK", 202: "Accepted", 401: "Unauthorized", 404: "Not Found"}


class _Serve(asyncio.Protocol):
    """One connection to one unit: requests in order, each answered `delay` after it arrived."""

    def __init__(self, unit: Behaviour) -> None:
        self.unit = unit
        self.buf = bytearray()
        self.busy = False
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.unit.peers.add(transport.get_extra_info("peername")[1])

    def data_received(self, data: bytes) -> None:
        self.buf += data
        self._next()

    def _next(self) -> None:
        if self.busy or self.transport is None or self.transport.is_closing():
            return
        end = self.buf.find(b"\r\n\r\n")
        if end < 0:
            return
        lines = bytes(self.buf[:end]).decode("latin-1").split("\r\n")
        method, path, _ = lines[0].split(" ", 2)
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        length = int(headers.get("content-length") or 0)
        if len(self.buf) < end + 4 + length:
            return
        raw = bytes(self.buf[end + 4 : end + 4 + length])
        del self.buf[: end + 4 + length]
        body = json.loads(raw) if raw else None
        self.unit.requests.append((method, path))
        self.unit.bodies.append((method, path, body))
        self.busy = True
        asyncio.get_running_loop().call_later(
            self.unit.delay, self._answer, method, path, headers.get("authorization"), body
        )

    def _answer(self, method: str, path: str, authorization: str | None, body: Any) -> None:
        self.busy = False
        if self.transport is None or self.transport.is_closing():
            return  # the client gave up (a deadline)
        status, data = self.unit.handle(method, path, authorization, body)
        out = json.dumps(data).encode()
        head = (
            f"HTTP/1.1 {status} {REASONS.get(status, 'Other')}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(out)}\r\n\r\n"
        )
        self.transport.write(head.encode() + out)
        self._next()

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None


async def serve(units: list[Behaviour], backlog: int = 1024) -> tuple[list[int], list[asyncio.Server]]:
    """Listen for every unit on a port of its own on 127.0.0.1; answers (ports, servers)."""
    loop = asyncio.get_running_loop()
    servers = []
    for unit in units:

        def factory(unit: Any = unit) -> _Serve:
            return _Serve(unit)

        servers.append(await loop.create_server(factory, "127.0.0.1", 0, backlog=backlog))
    return [s.sockets[0].getsockname()[1] for s in servers], servers

"""Kept-alive HTTP/1.1 connections to the unit agents: a small client on asyncio protocols (stdlib only).

Runs on the agent loop (agent_loop). Why hand-written rather than aiohttp or httpx: neither is installed,
and what the agents need is small (a request with a JSON body; an answer with Content-Length or chunked, or
ending at close). A protocol object parses the answer in place: no stream reader, no task per request.

Connections are reused per agent; one the agent closed (it tells the loop at once) is dropped before use.
A request goes out a second time, once, on a new connection, only when it cannot run twice on the agent:
the connection broke while connecting (the agent never saw the request), or the method is idempotent (GET,
PUT, DELETE) and nothing came back. A POST or PATCH that met a reset is reported, never repeated: the
agent may have started the job. A read timeout is never retried (the deadline is what is left).
"""

from __future__ import annotations

import asyncio
import os
import re

from .http_answer import Answer, Incomplete, parse

_UNSAFE = re.compile(r"[\x00-\x20\x7f]")  # a space or control character would end or split the line
IDEMPOTENT = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})


class ConnectFailed(Exception):
    """No connection: `timeout` when the agent did not accept one in time (else refused or unroutable)."""

    def __init__(self, reason: str, *, timeout: bool) -> None:
        super().__init__(reason)
        self.timeout = timeout


class _Conn(asyncio.Protocol):
    """One TCP connection; at most one request on it at a time (no pipelining)."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.transport: asyncio.Transport | None = None
        self.buf = bytearray()
        self.waiter: asyncio.Future[Answer] | None = None
        self.open = False
        # a byte of the current answer arrived (a reset after that is not "nothing came back")
        self.got = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport, self.open = transport, True

    def data_received(self, data: bytes) -> None:
        self.buf += data
        self.got = True
        if self.waiter is None:
            self.close()  # bytes nobody asked for: the connection is out of step
        else:
            self._answer(at_eof=False)

    def eof_received(self) -> bool:
        self._lost(None)
        return False  # close our side too

    def connection_lost(self, exc: Exception | None) -> None:
        self._lost(exc)

    def _lost(self, exc: Exception | None) -> None:
        self.open = False
        if self.waiter is not None and not self.waiter.done():
            self._answer(at_eof=True)  # an answer delimited by the close completes now
            if not self.waiter.done():
                self.waiter.set_exception(exc or ConnectionResetError("the agent closed the connection"))

    def _answer(self, *, at_eof: bool) -> None:
        assert self.waiter is not None
        try:
            answer = parse(self.buf, at_eof=at_eof)
        except Incomplete:
            return
        except ValueError as exc:
            self.waiter.set_exception(ConnectionError(f"unreadable answer: {exc}"))
            return
        if not self.waiter.done():
            self.waiter.set_result(answer)

    async def exchange(self, request: bytes, timeout: float) -> Answer:
        if self.transport is None or not self.open:
            raise ConnectionResetError("the agent closed the connection")
        self.got = False
        self.waiter = waiter = self.loop.create_future()
        self.transport.write(request)
        timer = self.loop.call_later(timeout, _expire, waiter)
        try:
            return await waiter
        finally:
            timer.cancel()
            self.waiter = None

    def close(self) -> None:
        self.open = False
        if self.transport is not None:
            self.transport.close()


def _expire(waiter: asyncio.Future[Answer]) -> None:
    if not waiter.done():
        waiter.set_exception(TimeoutError())


class Connections:
    def __init__(self, keep: int = 8) -> None:
        self.keep = keep  # idle connections kept per agent; more run at once, the surplus is closed
        self._idle: dict[tuple[str, int], list[_Conn]] = {}  # touched on the agent loop only: no lock

    async def send(
        self,
        host: str,
        port: int,
        method: str,
        path: str,
        body: bytes | None,
        headers: dict[str, str],
        connect_timeout: float,
        read_timeout: float,
    ) -> tuple[int, bytes]:
        """One request on a kept or new connection; raises ConnectFailed, TimeoutError (no answer in
        `read_timeout`), or ConnectionError / OSError (the connection broke)."""
        request = _request(host, port, method, path, body, headers)
        idle = self._idle.setdefault((host, port), [])
        for attempt in (1, 2):
            conn = _take(idle) or await _connect(host, port, connect_timeout)
            try:
                answer = await conn.exchange(request, read_timeout)
            except TimeoutError:
                conn.close()  # the answer may still come: never reuse
                raise
            except (ConnectionError, OSError):
                conn.close()
                if attempt == 1 and not conn.got and method in IDEMPOTENT:
                    continue  # nothing came back and running it twice changes nothing
                raise
            except BaseException:
                conn.close()  # a cancelled fan-out, likewise
                raise
            if answer.close or len(idle) >= self.keep or not conn.open:
                conn.close()
            else:
                idle.append(conn)
            return answer.status, answer.body
        raise AssertionError("unreachable")


def _take(idle: list[_Conn]) -> _Conn | None:
    """A kept connection still open; the loop already saw any the agent closed."""
    loop = asyncio.get_running_loop()
    while idle:
        conn = idle.pop()
        if conn.open and conn.loop is loop:  # another loop's: a forked child inherited it
            return conn
        conn.close()
    return None


async def _connect(host: str, port: int, timeout: float) -> _Conn:
    loop = asyncio.get_running_loop()
    for attempt in (1, 2):
        try:
            async with asyncio.timeout(timeout):
                _, conn = await loop.create_connection(lambda: _Conn(loop), host, port)
            return conn
        except TimeoutError:
            raise ConnectFailed("timed out", timeout=True) from None
        except ConnectionResetError:
            if attempt == 1:
                continue  # reset during the handshake: the agent never saw a request; once more
            raise ConnectFailed("connection reset", timeout=False) from None
        except OSError as exc:  # asyncio's text names the address; the reason is the errno's
            reason = os.strerror(exc.errno) if exc.errno and exc.errno > 0 else exc.strerror or str(exc)
            raise ConnectFailed(reason, timeout=False) from None
    raise AssertionError("unreachable")


def _request(
    host: str, port: int, method: str, path: str, body: bytes | None, headers: dict[str, str]
) -> bytes:
    if not path.isascii() or _UNSAFE.search(path):
        raise ValueError(f"path {path!r} must be plain ASCII without spaces or control characters")
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}:{port}"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    if body is not None or method in ("POST", "PUT", "PATCH"):
        lines.append(f"Content-Length: {len(body or b'')}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + (body or b"")

"""Kept-alive HTTP/1.1 connections to the unit agents: a small client on asyncio protocols (stdlib only).

Runs on the agent loop (agent_loop). Why hand-written rather than aiohttp or httpx: neither is installed,
and what the agents need is small (a request with a JSON body; an answer with Content-Length or chunked, or
ending at close). A protocol object parses the answer in place: no stream reader, no task per request.

Connections are reused per agent; one the agent closed (it tells the loop at once) is dropped before use.
A request goes out a second time, once, on a new connection, only when it cannot run twice on the agent:
the connection broke while connecting (the agent never saw the request), or the method is idempotent (GET,
PUT, DELETE) and nothing came back. A POST or PATCH that met a reset is reported, never repeated: the
agent may have started the job. A read timeout is never retried (the deadline is what is left).

Read deadlines: the requests sent in one turn of the loop (a fan-out sends hundreds at once) are watched by
one timer, swept when it fires, not a timer each: 2,000 timers per 1,000-unit operation kept asyncio's
heap busy (its comparisons, pushes, pops and cancels were a fifth of the loop's Python time).
"""

from __future__ import annotations

import asyncio
import os
import re
import time
from collections.abc import Callable

from .http_answer import Answer, Incomplete, parse

_UNSAFE = re.compile(r"[\x00-\x20\x7f]")  # a space or control character would end or split the line
IDEMPOTENT = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})
_WITH_BODY = frozenset({"POST", "PUT", "PATCH"})
# asyncio runs a timer up to its clock's resolution early: a deadline within it of now has passed
_SLACK = time.get_clock_info("monotonic").resolution

Watch = Callable[[float, "asyncio.Future[Answer]"], None]
# (loop, [(read deadline, waiter)]) of the requests sent in one turn of a loop
Sent = tuple[asyncio.AbstractEventLoop, list[tuple[float, "asyncio.Future[Answer]"]]]


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

    async def exchange(self, request: bytes, timeout: float, watch: Watch) -> Answer:
        """The answer, or TimeoutError once `timeout` has passed (`watch` fails the waiter then)."""
        if self.transport is None or not self.open:
            raise ConnectionResetError("the agent closed the connection")
        self.got = False
        self.waiter = waiter = self.loop.create_future()
        self.transport.write(request)
        watch(self.loop.time() + timeout, waiter)
        try:
            return await waiter
        finally:
            self.waiter = None

    def close(self) -> None:
        self.open = False
        if self.transport is not None:
            self.transport.close()


class Connections:
    def __init__(self, keep: int = 8) -> None:
        self.keep = keep  # idle connections kept per agent; more run at once, the surplus is closed
        self._idle: dict[tuple[str, int], list[_Conn]] = {}  # touched on the agent loop only: no lock
        # the requests sent in this turn of the loop; the loop is kept to tell a forked child's turn from
        # one its parent left pending
        self._sent: Sent | None = None

    def _watch(self, when: float, waiter: asyncio.Future[Answer]) -> None:
        sent, loop = self._sent, waiter.get_loop()
        if sent is None or sent[0] is not loop:
            sent = self._sent = (loop, [])
            loop.call_soon(self._seal, sent)  # runs after every request of this turn was sent
        sent[1].append((when, waiter))

    def _seal(self, sent: Sent) -> None:
        if self._sent is sent:
            self._sent = None
        _sweep(*sent)

    async def send(
        self,
        host: str,
        port: int,
        method: str,
        path: str,
        body: bytes | None,
        headers: bytes,
        connect_timeout: float,
        read_timeout: float,
    ) -> tuple[int, bytes]:
        """One request on a kept or new connection; raises ConnectFailed, TimeoutError (no answer in
        `read_timeout`), or ConnectionError / OSError (the connection broke). `headers`: lines
        (`Name: value\\r\\n` each, latin-1) beyond Host and Content-Length, rendered once by the caller."""
        request = _request(host, port, method, path, body, headers)
        idle = self._idle.setdefault((host, port), [])
        for attempt in (1, 2):
            conn = _take(idle) or await _connect(host, port, connect_timeout)
            try:
                answer = await conn.exchange(request, read_timeout, self._watch)
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


def _sweep(loop: asyncio.AbstractEventLoop, sent: list[tuple[float, asyncio.Future[Answer]]]) -> None:
    """Fail the requests whose read deadline passed; watch the rest with one timer, at the earliest."""
    now = loop.time() + _SLACK
    left = []
    for when, waiter in sent:
        if waiter.done():
            continue  # answered, failed or cancelled
        if when <= now:
            waiter.set_exception(TimeoutError())
        else:
            left.append((when, waiter))
    if left:
        loop.call_at(min(when for when, _ in left), _sweep, loop, left)


def _take(idle: list[_Conn]) -> _Conn | None:
    """A kept connection still open; the loop already saw any the agent closed."""
    loop = asyncio.get_running_loop()
    while idle:
        conn = idle.pop()
        if conn.loop is not loop:
            # A forked child inherited it from its parent's loop. Dropped, not closed: closing would take
            # its socket out of that loop's epoll, which parent and child share, and the parent's
            # connection would never hear its next answer.
            continue
        if conn.open:
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


def _request(host: str, port: int, method: str, path: str, body: bytes | None, headers: bytes) -> bytes:
    if not path.isascii() or _UNSAFE.search(path):
        raise ValueError(f"path {path!r} must be plain ASCII without spaces or control characters")
    head = f"{method} {path} HTTP/1.1\r\nHost: {host}:{port}\r\n".encode("latin-1")
    if body is None and method not in _WITH_BODY:
        return head + headers + b"\r\n"
    return b"%s%sContent-Length: %d\r\n\r\n%s" % (head, headers, len(body or b""), body or b"")

"""Kept-alive HTTP/1.1 connections to the unit agents, a few per agent, on the standard library's client.

Why not urllib3 (which the leader used before): a fan-out to 1,000 agents is CPU-bound in the leader (one
GIL, two requests per unit), and urllib3's per-request machinery (URL parsing, pool keys, timeout objects,
response wrappers, one lock over all pools) cost about 190 µs of CPU per request where `http.client` alone
costs about 80 µs (bench/fanout.py). What urllib3 gave that matters is kept here: connections are reused
per agent, one found closed by the agent is dropped before use (never a request sent twice: there are
no retries), and the connect and read timeouts are separate.
"""

from __future__ import annotations

import http.client
import select
import threading


class ConnectFailed(Exception):
    """No connection: `timeout` when the agent did not accept one in time (else refused or unroutable)."""

    def __init__(self, reason: str, *, timeout: bool) -> None:
        super().__init__(reason)
        self.timeout = timeout


class Connections:
    def __init__(self, keep: int = 8) -> None:
        self.keep = keep  # idle connections kept per agent; more run at once, the surplus is closed
        self._idle: dict[tuple[str, int], list[http.client.HTTPConnection]] = {}
        self._lock = threading.Lock()

    def send(
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
        `read_timeout`), or OSError / http.client.HTTPException (the connection broke)."""
        idle = self._idle.get((host, port))
        if idle is None:
            with self._lock:
                idle = self._idle.setdefault((host, port), [])
        conn = _take(idle) or http.client.HTTPConnection(host, port, timeout=connect_timeout)
        try:
            if conn.sock is None:
                try:
                    conn.connect()
                except TimeoutError as exc:
                    raise ConnectFailed(str(exc) or "timed out", timeout=True) from None
                except OSError as exc:
                    raise ConnectFailed(exc.strerror or str(exc), timeout=False) from None
            conn.sock.settimeout(read_timeout)
            conn.request(method, path, body=body, headers=headers)
            resp = conn.getresponse()
            content = resp.read()
        except BaseException:
            conn.close()
            raise
        if resp.will_close or len(idle) >= self.keep:
            conn.close()
        else:
            idle.append(conn)  # list.append/pop are atomic: no lock per request
        return resp.status, content


def _take(idle: list[http.client.HTTPConnection]) -> http.client.HTTPConnection | None:
    """A kept connection still open; one the agent closed meanwhile (readable: EOF) is dropped unused."""
    while True:
        try:
            conn = idle.pop()
        except IndexError:
            return None
        if conn.sock is not None and not _readable(conn.sock.fileno()):
            return conn
        conn.close()


def _readable(fd: int) -> bool:
    poller = select.poll()  # not select.select: a leader talking to 1,000 agents has fds above 1,024
    poller.register(fd, select.POLLIN)
    return bool(poller.poll(0))

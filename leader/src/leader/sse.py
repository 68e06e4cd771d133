"""Server-sent event streams read from the store, so any web worker can serve any stream.

`response(produce)` gives a `text/event-stream` whose generator gets a connection of its own (it outlives
the request context's); `follow(poll_once)` is the polling loop every stream shares: it sends what each
poll found, a comment as a heartbeat when nothing was sent for SSE_KEEPALIVE seconds (so proxies keep
the connection), and ends after SSE_MAX_SECONDS (the browser's EventSource reconnects by itself and
resumes with `Last-Event-ID`).
"""

from __future__ import annotations

import re
import sqlite3
import time
from collections.abc import Callable, Iterator

from flask import Response, current_app, request, stream_with_context

from cluster_schema import codec
from cluster_schema.errors import BadRequest

from .db import connect
from .http import query_arg

HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
RETRY_MS = 2000  # how long a browser waits before reconnecting


def event(name: str, data: object, event_id: int | None = None) -> str:
    head = f"id: {event_id}\n" if event_id is not None else ""
    return f"{head}event: {name}\ndata: {codec.encode(data).decode()}\n\n"


def retry() -> str:
    return f"retry: {RETRY_MS}\n\n"


def last_event_id(what: str) -> int | None:
    """`Last-Event-ID` (a reconnecting browser) or `?after=` (a script): a non-negative integer of at most
    18 digits, or None. Both are checked when both are given; the browser's header wins."""
    given = [v for v in (request.headers.get("Last-Event-ID"), query_arg("after")) if v is not None]
    if any(not re.fullmatch(r"[0-9]{1,18}", v.strip()) for v in given):
        raise BadRequest(f"Invalid `Last-Event-ID` (or `?after`): {what}.")
    return int(given[0]) if given else None


def response(produce: Callable[[sqlite3.Connection], Iterator[str]]) -> Response:
    path = current_app.config["DATABASE"]

    def stream() -> Iterator[str]:
        db = connect(path)
        try:
            yield from produce(db)
        finally:
            db.close()

    return Response(stream_with_context(stream()), mimetype="text/event-stream", headers=HEADERS)


def follow(poll_once: Callable[[], tuple[list[str], bool]]) -> Iterator[str]:
    """Call `poll_once() -> (chunks, finished)` every SSE_POLL seconds and send its chunks, with
    heartbeats, until it says finished or the stream's lifetime ends."""
    config = current_app.config
    poll, keepalive = float(config["SSE_POLL"]), float(config["SSE_KEEPALIVE"])
    lifetime = float(config["SSE_MAX_SECONDS"])
    started = last_sent = time.monotonic()
    while True:
        chunks, finished = poll_once()
        if chunks:
            yield from chunks
            last_sent = time.monotonic()
        if finished or time.monotonic() - started > lifetime:
            return
        if time.monotonic() - last_sent > keepalive:
            yield ": keep-alive\n\n"
            last_sent = time.monotonic()
        time.sleep(poll)


def numbered(
    read: Callable[[int], tuple[list[str], int, bool]],
    after: int,
    *,
    oldest: int,
    latest: int,
    resumed: bool,
    reset: str,
) -> Iterator[str]:
    """A stream over a feed numbered in commit order (the change log, the log feed), from number `after`:
    `read(after) -> (events, cursor, more)`. A resumed cursor whose next numbers were pruned (`oldest` and
    `latest` as the stream starts) gets a `reset` event with the reason `reset`, then what is kept. Each
    poll drains a backlog, a bounded one, before sleeping again."""
    yield retry()
    if resumed and after + 1 < oldest and after < latest:
        yield event("reset", {"reason": reset})
        after = oldest - 1

    def poll_once() -> tuple[list[str], bool]:
        nonlocal after
        out: list[str] = []
        for _ in range(10):
            found, after, more = read(after)
            out += found
            if not more:
                break
        return out, False

    yield from follow(poll_once)

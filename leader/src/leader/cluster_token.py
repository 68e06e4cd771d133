"""The cluster token: the shared secret every agent accepts (`Authorization: Bearer` on `/unit_api`).

It lives in `CLUSTER_TOKEN_FILE` (mode 0600), created on first use. Web and worker re-read it when the
file changes, so a rotation by the CLI reaches both without a restart.
"""

from __future__ import annotations

import os
import secrets
import threading
import time
from pathlib import Path

_lock = threading.Lock()
_cache: dict[str, tuple[tuple[int, int, int, int], str]] = {}
SETTLED_NS = 1_000_000_000  # a token file older than this is cached by its stat


def new_token() -> str:
    return secrets.token_urlsafe(32)


def write(path: str, token: str) -> None:
    """Atomic replace, never a half-written token."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(token + "\n")
    os.replace(tmp, target)


def read(path: str) -> str:
    """The current token, creating the file when it does not exist yet."""
    # Fast path without the lock: every turn of the agent loop that sends asks, and a lock held across
    # os.stat (which releases the GIL) once turned into a convoy costing a fifth of a fan-out's time.
    cached = _cache.get(path)
    try:
        if cached and cached[0] == _key(os.stat(path)):
            return cached[1]
    except FileNotFoundError:
        pass
    with _lock:
        try:
            st = os.stat(path)
        except FileNotFoundError:
            write(path, new_token())
            st = os.stat(path)
        cached = _cache.get(path)
        if cached and cached[0] == _key(st):
            return cached[1]
        token = Path(path).read_text().strip()
        if not token:
            raise RuntimeError(f"cluster token file {path} is empty")
        # A file written moments ago may be replaced again within the same tick of the (coarse) file clock
        # by one of the same size, on a reused inode: same stat, other token. Cache only a settled one.
        if time.time_ns() - st.st_mtime_ns > SETTLED_NS:
            _cache[path] = (_key(st), token)
        return token


def _key(st: os.stat_result) -> tuple[int, int, int, int]:
    """What changes when the file is replaced (os.replace: a new inode) or rewritten in place."""
    return (st.st_ino, st.st_dev, st.st_mtime_ns, st.st_size)

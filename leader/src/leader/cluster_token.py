"""The cluster token: the shared secret every agent accepts (`Authorization: Bearer` on `/unit_api`).

It lives in `CLUSTER_TOKEN_FILE` (mode 0600), created on first use. Web and worker re-read it when the
file changes, so a rotation by the CLI reaches both without a restart.
"""

from __future__ import annotations

import os
import secrets
import threading
from pathlib import Path

_lock = threading.Lock()
_cache: dict[str, tuple[float, str]] = {}


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
    # Fast path without the lock: every agent request of a fan-out asks (1,000 threads at once), and a lock
    # held across os.stat (which releases the GIL) turned into a convoy costing a fifth of a fan-out's time.
    cached = _cache.get(path)
    try:
        if cached and cached[0] == os.stat(path).st_mtime:
            return cached[1]
    except FileNotFoundError:
        pass
    with _lock:
        try:
            mtime = os.stat(path).st_mtime
        except FileNotFoundError:
            write(path, new_token())
            mtime = os.stat(path).st_mtime
        cached = _cache.get(path)
        if cached and cached[0] == mtime:
            return cached[1]
        token = Path(path).read_text().strip()
        if not token:
            raise RuntimeError(f"cluster token file {path} is empty")
        _cache[path] = (mtime, token)
        return token

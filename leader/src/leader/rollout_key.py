"""The rollout's SSH key: an ed25519 key pair the leader's Ansible rollout logs in to the units with.

Made by `ssh-keygen` (run with an argument list, never a shell; the `cryptography` library is not among the
leader's dependencies). The private key stays in the leader's instance folder (ROLLOUT_SSH_KEY) with mode 0600
in a 0700 folder and is never served; pages and /api show the public key and its fingerprint. Rotating makes
a new pair in a temporary folder beside it and then replaces both files, so a failed rotation keeps the old
key and a reader never sees half a pair.
"""

from __future__ import annotations

import base64
import fcntl
import hashlib
import os
import shutil
import subprocess
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from flask import current_app

from cluster_schema.errors import ApiError
from cluster_schema.rollout import RolloutKey


def keygen_failed(message: str) -> ApiError:
    return ApiError(message, code="keygen_failed")


def key_path() -> Path:
    """The private key's file (ROLLOUT_SSH_KEY, relative to the instance folder)."""
    return Path(current_app.instance_path, current_app.config["ROLLOUT_SSH_KEY"])


def fingerprint(public_key: str) -> str:
    """`SHA256:…` as `ssh-keygen -l` prints it: the key blob's digest, base64 without padding."""
    blob = base64.b64decode(public_key.split()[1])
    return "SHA256:" + base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")


def read(path: Path) -> RolloutKey | None:
    pub = path.with_name(path.name + ".pub")
    if not path.exists() or not pub.exists():
        return None
    text = pub.read_text().strip()
    created = datetime.fromtimestamp(pub.stat().st_mtime, UTC).isoformat().replace("+00:00", "Z")
    return RolloutKey(public_key=text, fingerprint=fingerprint(text), created_at=created)


def generate(path: Path, comment: str) -> RolloutKey:
    """A new pair at `path` (and `path.pub`), replacing any existing one."""
    keygen = shutil.which("ssh-keygen")
    if keygen is None:
        raise keygen_failed("ssh-keygen is not installed on the leader (Debian: apt install openssh-client).")
    path.parent.mkdir(parents=True, exist_ok=True)
    os.chmod(path.parent, 0o700)
    # one rotation at a time across the web workers: two at once could leave halves of different pairs
    with open(path.parent / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        _make(keygen, path, comment)
    found = read(path)
    assert found is not None
    return found


def _make(keygen: str, path: Path, comment: str) -> None:
    with tempfile.TemporaryDirectory(dir=path.parent, prefix=".keygen-") as tmp:
        new = Path(tmp, "key")
        argv = [keygen, "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", str(new)]
        try:
            done = subprocess.run(argv, capture_output=True, text=True, timeout=30, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise keygen_failed(f"ssh-keygen failed: {exc}") from None
        if done.returncode != 0:
            raise keygen_failed(f"ssh-keygen failed: {(done.stderr or done.stdout).strip()[-300:]}")
        os.chmod(new, 0o600)
        # each replace is atomic; a crash between the two would leave a stale public half, which
        # `ssh-keygen -y -f <key>` re-derives (the next rotation fixes it too)
        os.replace(new, path)
        os.replace(new.with_name("key.pub"), path.with_name(path.name + ".pub"))

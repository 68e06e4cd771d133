"""Pioreactor's config files (known names only, in DOT_PIOREACTOR): read, and write atomically.

A write goes to a temporary file in the same folder, is fsynced, and renamed over the old file; the old
version is kept as `<name>.prev`. With `sha256` in the body, the write happens only if the current content
still has that hash (409 otherwise), so two editors do not overwrite each other silently.
"""

from __future__ import annotations

import configparser
import contextlib
import fcntl
import hashlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from cluster_schema.agent import ConfigFileAnswer, ConfigFileBody
from cluster_schema.errors import BadRequest, Conflict, NotFound
from cluster_schema.names import check_file_name

from .config import Settings

MAX_BYTES = 1_000_000


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def path_for(settings: Settings, name: str) -> Path:
    check_file_name(name, "name")
    if name not in settings.config_files:
        raise NotFound(f"Unknown config file `{name}`: one of {', '.join(settings.config_files)}.")
    return settings.dot_pioreactor / name


def read(settings: Settings, name: str) -> ConfigFileAnswer:
    path = path_for(settings, name)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise NotFound(f"Config file `{name}` does not exist on this unit.") from None
    return ConfigFileAnswer(name=name, content=data.decode("utf-8", errors="replace"), sha256=sha256(data))


def _check_content(name: str, content: str) -> bytes:
    data = content.encode("utf-8")
    if len(data) > MAX_BYTES:
        raise BadRequest(f"Content too large at `$.content`: at most {MAX_BYTES} bytes.")
    if "\x00" in content:
        raise BadRequest("Invalid content at `$.content`: NUL is not allowed.")
    if name.endswith(".ini"):
        try:
            configparser.ConfigParser(interpolation=None, strict=False).read_string(content)
        except configparser.Error as exc:
            first = str(exc).splitlines()[0]
            raise BadRequest(f"Invalid INI content at `$.content`: {first}") from None
    return data


@contextlib.contextmanager
def _locked(folder: Path) -> Iterator[None]:
    with open(folder / ".unit_agent_config.lock", "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        yield


def write_atomic(path: Path, data: bytes, mode: int | None = None) -> None:
    """Temp file in the same folder, fsync, rename over `path`, fsync the folder. Keeps `path`'s mode
    (or sets `mode`); a new file is created private (0600, mkstemp's default)."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        if mode is not None:
            os.chmod(tmp, mode)
        else:
            with contextlib.suppress(FileNotFoundError):
                os.chmod(tmp, path.stat().st_mode & 0o777)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def write(settings: Settings, name: str, body: ConfigFileBody) -> ConfigFileAnswer:
    path = path_for(settings, name)
    data = _check_content(name, body.content)
    path.parent.mkdir(parents=True, exist_ok=True)
    with _locked(path.parent):
        try:
            current: bytes | None = path.read_bytes()
        except FileNotFoundError:
            current = None
        if body.sha256 is not None and body.sha256 != sha256(current or b""):
            raise Conflict(f"Config file `{name}` changed since it was read (sha256 differs); read it again.")
        if current is not None:
            write_atomic(path.with_name(name + ".prev"), current)
        write_atomic(path, data)
    return ConfigFileAnswer(name=name, content=body.content, sha256=sha256(data))

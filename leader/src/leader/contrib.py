"""Contrib descriptors: YAML under CONTRIB_DIR (jobs/, automations/<kind>/, charts/), validated, cached.

A descriptor that does not validate is skipped and logged (one bad file must not hide the others); the
cache is keyed by the files' names and modification times, so edits show up without a restart.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any, TypeVar

import yaml

from cluster_schema import codec
from cluster_schema.contrib import AutomationDescriptor, ChartDescriptor, JobDescriptor, rule_problems
from cluster_schema.errors import ApiError

log = logging.getLogger(__name__)
T = TypeVar("T")

_lock = threading.Lock()
_cache: dict[tuple[str, type], tuple[tuple[tuple[str, float], ...], list[Any]]] = {}


def _load(folder: Path, type_: type[T]) -> list[T]:
    files = sorted(p for p in folder.glob("*.y*ml") if p.is_file()) if folder.is_dir() else []
    stamp = tuple((str(p), p.stat().st_mtime) for p in files)
    key = (str(folder), type_)
    with _lock:
        cached = _cache.get(key)
        if cached and cached[0] == stamp:
            return cached[1]
    found: list[T] = []
    for path in files:
        try:
            desc = codec.convert(type_, yaml.safe_load(path.read_text(encoding="utf-8")))
        except (yaml.YAMLError, ApiError, OSError) as exc:
            log.warning("skipping contrib descriptor %s: %s", path, getattr(exc, "message", exc))
            continue
        problems = rule_problems(desc)  # type: ignore[arg-type]
        if problems:
            log.warning("skipping contrib descriptor %s: %s", path, "; ".join(problems))
            continue
        found.append(desc)
    with _lock:
        _cache[key] = (stamp, found)
    return found


def jobs(root: str) -> list[JobDescriptor]:
    return _load(Path(root, "jobs"), JobDescriptor)


def automations(root: str, kind: str) -> list[AutomationDescriptor]:
    return _load(Path(root, "automations", kind), AutomationDescriptor)


def charts(root: str) -> list[ChartDescriptor]:
    return _load(Path(root, "charts"), ChartDescriptor)

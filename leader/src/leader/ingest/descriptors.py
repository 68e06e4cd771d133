"""Contrib descriptors the ingest routes by: jobs and automations (settings), charts (readings)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

import yaml

from cluster_schema import codec
from cluster_schema.contrib import AutomationDescriptor, ChartDescriptor, JobDescriptor

from .parse import Router

T = TypeVar("T")


def _load(folder: Path, type_: type[T]) -> list[T]:
    out = []
    for path in sorted(folder.glob("*.yaml")):
        doc: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
        out.append(codec.convert(type_, doc))
    return out


def charts(contrib: Path) -> list[ChartDescriptor]:
    return _load(Path(contrib) / "charts", ChartDescriptor)


def router(contrib: Path) -> Router:
    contrib = Path(contrib)
    automations = [
        (kind.name, a)
        for kind in sorted((contrib / "automations").glob("*"))
        if kind.is_dir()
        for a in _load(kind, AutomationDescriptor)
    ]
    return Router(charts(contrib), _load(contrib / "jobs", JobDescriptor), automations)

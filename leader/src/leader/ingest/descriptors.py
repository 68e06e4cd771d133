"""The router built from the contrib descriptors (`leader.contrib`): job and automation settings, charts."""

from __future__ import annotations

from typing import get_args

from cluster_schema.contrib import AutomationKind

from .. import contrib
from .parse import Router


def router(contrib_dir: str) -> Router:
    root = str(contrib_dir)
    automations = [(kind, a) for kind in get_args(AutomationKind) for a in contrib.automations(root, kind)]
    return Router(contrib.charts(root), contrib.jobs(root), automations)

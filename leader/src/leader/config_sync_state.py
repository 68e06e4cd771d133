"""Which units a config file goes to, and which of them do not have its current version: "saved, not synced".

The cheapest honest answer, asking no unit: a unit has the file when the last sync step that succeeded
there wrote this sha256 (the agent confirmed the sha256 of what it stored; leader/db/config_synced.py). A
unit the leader never synced counts as not synced, even if the same file was copied there by hand; a step
that failed counts as not synced, even if it wrote one of the two files before failing. The other way round,
a file changed on the unit by hand after a sync still counts as synced: this says what the leader's syncs
wrote, it does not read the units' files.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Protocol, TypeVar

from cluster_schema.config_files import ConfigFile

from .db import config_synced
from .operations.actions import SHARED_CONFIG, unit_config_name


class Registered(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def active(self) -> bool: ...


U = TypeVar("U", bound=Registered)


def targets(name: str, units: Sequence[U]) -> list[U]:
    """config.ini: every active unit (what a sync without `units` reaches); config_<unit>.ini: its unit."""
    if name == SHARED_CONFIG:
        return [u for u in units if u.active]
    return [u for u in units if unit_config_name(u.name) == name]


def with_sync_state(
    db: sqlite3.Connection, files: list[ConfigFile], units: Sequence[Registered] | None = None
) -> list[ConfigFile]:
    """Fill each file's `unsynced_units` (sorted by unit name); `units`: the registered ones, if at hand."""
    if units is None:
        units = config_synced.registered_units(db)
    last = config_synced.synced(db, [f.name for f in files])
    for f in files:
        f.unsynced_units = sorted(
            u.name for u in targets(f.name, units) if last.get((u.name, f.name)) != f.sha256
        )
    return files


def with_state(db: sqlite3.Connection, file: ConfigFile) -> ConfigFile:
    return with_sync_state(db, [file])[0]

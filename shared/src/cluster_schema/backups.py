"""Backups of the leader's store: `GET /api/backups` lists them; `POST /api/backups` takes one (202)."""

from __future__ import annotations

from .base import Wire


class Backup(Wire):
    name: str  # the file in the leader's BACKUP_DIR
    size: int  # bytes
    created_at: str  # ISO-8601 UTC, the file's modification time


class BackupList(Wire):
    backups: list[Backup] = []  # newest first
    keep: int = 0  # how many the leader keeps (BACKUP_KEEP)
    schedule: str = ""  # BACKUP_AT, cron in the lab's zone; empty = no nightly backup

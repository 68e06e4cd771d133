"""Answers of the logs search and the export preview (the /logs page and the export dialog)."""

from __future__ import annotations

from .base import Wire
from .leader import LogsPage


class LogsAnswer(LogsPage):
    """GET /api/logs: a page of logs (`logs`, `next` as the contract has them), plus `newest` - the cursor of
    the page's newest log, to follow new ones with `?after=` - and, for a text search, `indexing`: whether
    some stored logs are not searchable yet (the index catches up in the background)."""

    newest: str | None = None
    indexing: bool | None = None


class ExportPreviewTable(Wire):
    experiment: str
    dataset: str
    file: str  # its name in the zip
    columns: list[str]
    rows: list[list[str | float | int | None]]


class ExportPreview(Wire):
    """POST /api/exports/preview: the first rows of each file an export would write, nothing written."""

    timezone: str
    since: str | None
    until: str | None
    tables: list[ExportPreviewTable]

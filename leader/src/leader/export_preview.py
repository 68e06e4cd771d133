"""What the export dialog shows before and after an export: the first rows of each file it would write
(read from the store like the export itself, nothing written), and the finished zip's file name.

The file name says what is inside - the experiment (or the first one and how many more) and when it was
made, in the lab's zone - and keeps the experiments' own names, UTF-8 included: Werkzeug sends a name
beyond ASCII as RFC 6266 `filename*=UTF-8''…` with an ASCII `filename=` fallback.
"""

from __future__ import annotations

import itertools
import re
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import Flask

from cluster_schema.log_pages import ExportPreview, ExportPreviewTable

from .exports import Window, _epoch, _rows

ROWS = 5
MAX_TABLES = 24  # an "all" preview of a big store stays one small answer


def preview(app: Flask, params: dict[str, Any], rows: int = ROWS) -> ExportPreview:
    """`params` as leader.exports.params makes them for the operation."""
    zone = ZoneInfo(params.get("timezone") or "UTC")
    window = Window(_epoch(params.get("since")), _epoch(params.get("until")), zone)
    tables = []
    pairs = itertools.product(params["experiments"], params["datasets"])
    for experiment, dataset in itertools.islice(pairs, MAX_TABLES):
        header, produced = _rows(dataset, experiment, window)
        first = [list(r) for r in itertools.islice(produced, rows)]
        close = getattr(produced, "close", None)
        if close:
            close()  # the generator's cursor is done with
        tables.append(
            ExportPreviewTable(
                experiment=experiment,
                dataset=dataset,
                file=f"{experiment}/{dataset}.csv",
                columns=header,
                rows=first,
            )
        )
    return ExportPreview(
        timezone=zone.key,
        since=window.time(window.since) if window.since is not None else None,
        until=window.time(window.until) if window.until is not None else None,
        tables=tables,
    )


def _safe(name: str) -> str:
    """Letters of any script, digits, `-`, `_`, `.` and `+` kept; anything a file system or a header might
    read otherwise (slashes, quotes, spaces, controls) becomes `_`."""
    return re.sub(r"[^\w.+-]", "_", name).strip("._") or "export"


def file_name(params: dict[str, Any], created_at: str) -> str:
    experiments = params.get("experiments") or []
    what = experiments[0] if experiments else "export"
    if len(experiments) > 1:
        what += f"+{len(experiments) - 1}"
    zone = ZoneInfo(params.get("timezone") or "UTC")
    try:
        stamp = (
            datetime.fromisoformat(created_at.replace("Z", "+00:00")).astimezone(zone).strftime("%Y%m%d-%H%M")
        )
    except ValueError:
        stamp = "export"
    return f"{_safe(what)}_{stamp}.zip"

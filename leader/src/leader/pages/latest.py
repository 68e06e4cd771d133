"""The latest measured values a unit card shows (the chart descriptors with a `card_label`), each with its
time and a sparkline of up to SPARK_HOURS before it, drawn server-side as SVG points so the card is complete
without script; `static/js/sparkline.js` keeps them live from the experiment's event stream.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from typing import Any

from cluster_schema.contrib import ChartDescriptor

from ..db import readings

SPARK_HOURS = 6.0
SPARK_POINTS = 40
WIDTH, HEIGHT, PAD = 100.0, 24.0, 2.0  # the SVG's viewBox, and a margin so the stroke is not clipped


def points_attr(values: list[float]) -> str:
    """SVG polyline points for `values`, spread over the width, scaled to their own range; one value is
    a flat line and a flat series sits in the middle (sparkline.js draws the same)."""
    if not values:
        return ""
    drawn = values * 2 if len(values) == 1 else values
    lo, hi = min(drawn), max(drawn)
    step = WIDTH / (len(drawn) - 1)

    def y(v: float) -> float:
        return HEIGHT - PAD - (v - lo) / (hi - lo) * (HEIGHT - 2 * PAD) if hi > lo else HEIGHT / 2

    return " ".join(f"{i * step:.1f},{y(v):.1f}" for i, v in enumerate(drawn))


def value_text(value: float, decimals: int) -> str:
    return f"{value:.{max(0, min(decimals, 6))}f}"


def card_charts(charts: list[ChartDescriptor]) -> list[ChartDescriptor]:
    return [c for c in charts if c.card_label]


def for_unit(
    db: sqlite3.Connection, experiment: str, unit: str, charts: list[ChartDescriptor]
) -> list[dict[str, Any]]:
    shown = []
    for chart in card_charts(charts):
        item: dict[str, Any] = {"chart": chart, "value": "", "at": None, "spark": [], "points": ""}
        last = readings.latest(db, chart.key, experiment, unit)
        if last is not None:
            ts, value = last
            # the window shrinks to the readings there are, so a young series still draws its shape
            since = readings.first_since(db, chart.key, experiment, unit, ts - SPARK_HOURS * 3600) or ts
            rows = readings.buckets(db, chart.key, experiment, unit, since, ts, SPARK_POINTS)
            spark = [r[1] * chart.scale for r in rows if r[1] is not None]
            item.update(
                value=value_text(value * chart.scale, chart.fixed_decimals),
                at=datetime.fromtimestamp(ts, UTC).isoformat().replace("+00:00", "Z"),
                spark=[round(v, 6) for v in spark],
                points=points_attr(spark),
            )
        shown.append(item)
    return shown


def load(
    db: sqlite3.Connection, experiment: str, units: list[str], charts: list[ChartDescriptor]
) -> dict[str, list[dict[str, Any]]]:
    return {unit: for_unit(db, experiment, unit, charts) for unit in units}

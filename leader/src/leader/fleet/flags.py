"""What the units page flags: versions that differ from the leader's or the majority, a clock off by more
than CLOCK_LIMIT seconds, a nearly full disk, a silent worker."""

from __future__ import annotations

from collections import Counter

from cluster_schema import SCHEMA_VERSION
from cluster_schema.leader import Unit

CLOCK_LIMIT = 2.0  # seconds
DISK_FREE_MIN = 0.10  # a disk with less than this share free is nearly full


def majority(units: list[Unit], field: str) -> str | None:
    counts = Counter(str(getattr(u.versions, field)) for u in units if u.versions is not None)
    return counts.most_common(1)[0][0] if counts else None


def flags(units: list[Unit], leader_version: str) -> dict[str, list[str]]:
    """unit -> short human reasons (empty: nothing to flag)."""
    common = {f: majority(units, f) for f in ("agent", "pio", "python")}
    out: dict[str, list[str]] = {}
    for u in units:
        reasons: list[str] = []
        v = u.versions
        if v is not None:
            if v.schema != SCHEMA_VERSION:
                reasons.append(f"schema {v.schema}, the leader's is {SCHEMA_VERSION}")
            if v.agent != leader_version:
                reasons.append(f"agent {v.agent}, the leader is {leader_version}")
            for field in ("pio", "python"):
                value = str(getattr(v, field))
                if common[field] is not None and value != common[field]:
                    reasons.append(f"{field} {value}, most units run {common[field]}")
        h = u.health
        if h is not None:
            if h.clock_offset_s is not None and abs(h.clock_offset_s) > CLOCK_LIMIT:
                reasons.append(f"clock off by {h.clock_offset_s:+.1f} s")
            free = (
                h.disk_free_bytes / h.disk_total_bytes
                if h.disk_free_bytes is not None and h.disk_total_bytes
                else 1.0
            )
            if free < DISK_FREE_MIN:
                reasons.append(f"disk nearly full ({100 * free:.0f}% free)")
            if h.worker_alive is False and u.presence == "online":
                reasons.append("no heartbeat from its worker")
        out[u.name] = reasons
    return out

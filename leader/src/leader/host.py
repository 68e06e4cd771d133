"""The leader's own disk and memory, for the dashboard (read locally: no fan-out, no extra dependency).

Memory comes from /proc/meminfo (Linux, which is what a Pi runs); elsewhere it is unknown, not guessed.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

MEMINFO = Path("/proc/meminfo")


@dataclass(frozen=True)
class Space:
    total: int  # bytes
    used: int

    @property
    def free(self) -> int:
        return self.total - self.used

    @property
    def used_fraction(self) -> float:
        return self.used / self.total if self.total else 0.0


def disk(path: str) -> Space:
    usage = shutil.disk_usage(path)
    return Space(total=usage.total, used=usage.total - usage.free)


def memory(meminfo: Path = MEMINFO) -> Space | None:
    try:
        text = meminfo.read_text()
    except OSError:
        return None
    values = {}
    for line in text.splitlines():
        name, _, rest = line.partition(":")
        fields = rest.split()
        if fields and fields[0].isdigit():
            values[name] = int(fields[0]) * 1024  # kB
    total = values.get("MemTotal")
    available = values.get("MemAvailable", values.get("MemFree"))
    if not total or available is None:
        return None
    return Space(total=total, used=total - available)

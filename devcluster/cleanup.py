"""Stop the `pio` jobs a unit directory started.

Agents start `pio run` detached (their own session), on purpose: restarting an agent must not stop a
culture's stirring. So stopping an agent leaves its jobs running, and whoever created a unit directory
(a test, the demo) stops them with `stop_unit_jobs` when it is done.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sqlite3
import time
from pathlib import Path

from .units import CREATED, unit_paths


def _registry_pids(registry: Path) -> set[int]:
    if not registry.exists():
        return set()
    with contextlib.closing(sqlite3.connect(f"file:{registry}?mode=ro", uri=True, timeout=1)) as db:
        try:
            return {int(r[0]) for r in db.execute("SELECT pid FROM pio_job_metadata WHERE is_running = 1")}
        except sqlite3.Error:
            return set()


def _environ_pids(dot: Path) -> set[int]:
    """Processes whose environment names this unit (Linux /proc; elsewhere the registry alone)."""
    marker = f"DOT_PIOREACTOR={dot}".encode()
    found = set()
    for entry in Path("/proc").glob("[0-9]*"):
        with contextlib.suppress(OSError):
            if marker in (entry / "environ").read_bytes().split(b"\0"):
                found.add(int(entry.name))
    return found - {os.getpid()}


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    with contextlib.suppress(OSError):  # a zombie is gone for our purposes
        return " Z " not in Path(f"/proc/{pid}/stat").read_text().split(")", 1)[1][:4]
    return True


def stop_unit_jobs(dir: Path, grace: float = 3.0) -> set[int]:
    """SIGTERM every job of the unit, SIGKILL what is left after `grace`; answers the pids it signalled."""
    paths = unit_paths(Path(dir).resolve())
    pids = _registry_pids(paths.registry) | _environ_pids(paths.dot)
    pids = {p for p in pids if _alive(p)}
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 1.0)):
        for pid in pids:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, sig)
        deadline = time.monotonic() + wait
        while any(_alive(p) for p in pids) and time.monotonic() < deadline:
            time.sleep(0.02)
    return pids


def stop_all_tracked() -> None:
    """Stop the jobs of every unit directory this process wrote."""
    for dir in sorted(CREATED):
        stop_unit_jobs(dir)
    CREATED.clear()

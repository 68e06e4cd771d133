"""Calibrations as Pioreactor stores them: `DOT_PIOREACTOR/storage/calibrations/<device>/<name>.yaml`,
the active one per device in the persistent cache (read through registry.py). Read here without parsing
YAML; setting the active one goes through `pio calibrations set-active` (a worker task).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from cluster_schema.agent import Calibration, Calibrations
from cluster_schema.errors import NotFound
from cluster_schema.names import check_file_name

from .registry import Registry

MAX_CONTENT = 256_000


def _folder(dot: Path) -> Path:
    return dot / "storage" / "calibrations"


def _entry(path: Path, device: str, active: dict[str, str], content: bool) -> Calibration:
    mtime = datetime.fromtimestamp(path.stat().st_mtime, UTC).isoformat(timespec="seconds")
    return Calibration(
        device=device,
        name=path.stem,
        active=active.get(device) == path.stem,
        created_at=mtime.replace("+00:00", "Z"),
        content=path.read_text(errors="replace")[:MAX_CONTENT] if content else None,
    )


def list_all(dot: Path, registry: Registry) -> Calibrations:
    active = registry.active_calibrations()
    folder = _folder(dot)
    devices = sorted(p for p in folder.iterdir() if p.is_dir()) if folder.is_dir() else []
    return Calibrations(
        calibrations=[_entry(f, d.name, active, False) for d in devices for f in sorted(d.glob("*.yaml"))]
    )


def for_device(dot: Path, registry: Registry, device: str) -> Calibrations:
    check_file_name(device, "device")
    active = registry.active_calibrations()
    folder = _folder(dot) / device
    files = sorted(folder.glob("*.yaml")) if folder.is_dir() else []
    return Calibrations(calibrations=[_entry(f, device, active, True) for f in files])


def check_exists(dot: Path, device: str, name: str) -> None:
    check_file_name(device, "device")
    check_file_name(name, "name")
    if not (_folder(dot) / device / f"{name}.yaml").is_file():
        raise NotFound(f"No calibration `{name}` for device `{device}` on this unit.")

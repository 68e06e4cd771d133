"""Fleet: what an agent announces about itself (versions, health, clock) and the leader's fleet requests.

    pioreactor/<unit>/$agent/status      AgentStatus JSON, retained; published by the agent's worker at
                                         start, when its versions or running job count change, and every
                                         `heartbeat_interval` seconds (the presence topic keeps its meaning)

The leader's ingest stores the latest status per unit; `/api/units` answers from that store. Names and
versions of plugins are checked by the leader and the agent with `packaging` (PEP 508 / PEP 440); this
package depends on msgspec only, so only the shapes live here.
"""

from __future__ import annotations

from .base import Wire


class UnitVersions(Wire):
    agent: str
    pio: str
    python: str
    schema: int


class AgentStatus(Wire):
    unit: str
    versions: UnitVersions
    utc: str  # the agent's clock when it published (ISO 8601, ms, Z)
    disk_free_bytes: int | None = None  # of the filesystem holding the agent's data directory
    disk_total_bytes: int | None = None
    memory_free_bytes: int | None = None  # MemAvailable
    memory_total_bytes: int | None = None
    running_jobs: int = 0
    worker_alive: bool = True  # the worker publishes this itself; the leader marks a silent one stale
    interval: float = 30.0  # seconds until the next heartbeat at the latest


class UnitHealth(Wire):
    """The health part of a unit answer (null fields: not reported yet)."""

    disk_free_bytes: int | None = None
    disk_total_bytes: int | None = None
    memory_free_bytes: int | None = None
    memory_total_bytes: int | None = None
    running_jobs: int | None = None
    worker_alive: bool | None = None  # false: no heartbeat for three intervals; null: none live yet
    heartbeat_at: str | None = None
    # agent clock minus leader clock at arrival (seconds); see leader.db.fleet for the error bound
    clock_offset_s: float | None = None
    clock_checked_at: str | None = None


class PluginChange(Wire):
    """POST /api/plugins/install · /uninstall."""

    name: str
    version: str | None = None
    units: list[str] | None = None  # default: every active unit


class UnitPlugin(Wire):
    name: str
    version: str = ""


class PluginsByUnit(Wire):
    units: dict[str, list[UnitPlugin]] = {}
    errors: dict[str, str] = {}  # units that could not be asked, with the reason


class ActiveCalibrationChange(Wire):
    """PATCH /api/units/<unit>/active_calibrations/<device>/<name> (optional body)."""

    units: list[str] | None = None  # with `$all` as <unit>: these units only


class CalibrationCurve(Wire):
    device: str
    name: str
    curve_type: str | None = None
    curve_data: list[float] = []
    x: str | None = None
    y: str | None = None
    recorded_x: list[float] = []
    recorded_y: list[float] = []
    points: list[list[float]] = []  # [x, y] of the fitted curve over the recorded range, for a chart


class CalibrationCoverage(Wire):
    """unit x device: the active calibration's name (null: none active) for every unit asked."""

    devices: list[str] = []
    units: dict[str, dict[str, str | None]] = {}
    errors: dict[str, str] = {}

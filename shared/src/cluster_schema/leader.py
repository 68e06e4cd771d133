"""Bodies and answers of the leader's `/api`."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from msgspec import Meta

from .base import Wire
from .config_files import ConfigFile as ConfigFile  # (moved; imported from here too)
from .config_files import ConfigFilePut as ConfigFilePut
from .config_files import ConfigFiles as ConfigFiles
from .errors import BadRequest
from .fleet import UnitHealth, UnitVersions
from .names import (
    Address,
    ArgStr,
    ArgValue,
    ConfigName,
    Description,
    EnvName,
    ExperimentName,
    OptionName,
    SettingName,
    TokenName,
    UnitName,
    Value,
    check_arg,
    check_config_override,
    check_env_name,
    check_experiment,
    check_option_key,
    check_setting,
    check_unit,
    check_value,
)
from .profiles import PlanEntry

# `offline`: the agent said goodbye; `lost`: its last will fired (it vanished without a goodbye)
Presence = Literal["online", "offline", "lost", "unknown"]
OperationStatus = Literal["queued", "running", "succeeded", "partial", "failed", "cancelled", "interrupted"]
StepStatus = Literal["pending", "running", "ok", "failed"]
Trigger = Literal["ui", "api", "schedule", "profile"]
FINISHED: frozenset[str] = frozenset({"succeeded", "partial", "failed", "cancelled", "interrupted"})


# A list of distinct unit names (msgspec checks each name; `validate()` the duplicates).
UnitList = Annotated[list[UnitName], Meta(extra_json_schema={"uniqueItems": True})]
Port = Annotated[int, Meta(ge=1, le=65535)]
Model = Annotated[str, Meta(max_length=100)]


def check_units(units: list[str] | None, field: str = "$.units") -> None:
    if units is None:
        return
    for i, unit in enumerate(units):
        check_unit(unit, f"{field}[{i}]")
    if len(set(units)) != len(units):
        raise BadRequest(f"Duplicate unit names at `{field}`.")


class UnitCreate(Wire):
    name: UnitName
    address: Address | None = None
    port: Port = 4999
    model: Model | None = None

    def validate(self) -> UnitCreate:
        check_unit(self.name, "$.name")
        if not 0 < self.port < 65536:
            raise BadRequest("Invalid port at `$.port`: 1-65535.")
        if self.address is not None:
            check_value(self.address, "$.address", 253)
        return self


class UnitPatch(Wire):
    address: Address | None = None
    port: Port | None = None
    model: Model | None = None
    active: bool | None = None


class Unit(Wire):
    name: str
    address: str
    port: int
    model: str | None
    active: bool
    presence: Presence
    last_seen: str | None
    # fleet (cluster_schema.fleet): from the agent's status heartbeat, kept in the leader's store
    versions: UnitVersions | None = None
    versions_checked_at: str | None = None
    health: UnitHealth | None = None


class ExperimentCreate(Wire):
    name: ExperimentName
    description: Description = ""
    # an experiment whose per-experiment settings (unit labels, alert rules; its description when none
    # is given) the new one starts with
    copy_from: ExperimentName | None = None

    def validate(self) -> ExperimentCreate:
        check_experiment(self.name, "$.name")
        check_value(self.description, "$.description", 5000)
        if self.copy_from is not None:
            check_experiment(self.copy_from, "$.copy_from")
        return self


class ExperimentPatch(Wire):
    description: Description | None = None


class Experiment(Wire):
    name: str
    description: str
    created_at: str
    units: list[str] = []
    labels: dict[str, str] = {}  # {unit: label} of the assigned units that have one
    # set when it was deleted keeping its data: its name stays reserved, nothing can be assigned to it
    archived_at: str | None = None


class AssignmentsPut(Wire):
    units: UnitList
    move: bool = False  # units assigned to another experiment move here only when true (else 409)

    def validate(self) -> AssignmentsPut:
        check_units(self.units)
        return self


class Assignment(Wire):
    unit: str
    experiment: str
    assigned_at: str
    unassigned_at: str | None = None


class JobStartRequest(Wire):
    """Options, args and env travel to the agents' `pio`: the agents' own rules apply here already."""

    units: UnitList | None = None
    options: dict[OptionName, ArgValue] = {}
    args: list[ArgStr] = []
    env: dict[EnvName, ArgStr] = {}
    # `pio run --config-override SECTION KEY VALUE` for this run only, the agent's rule (names.py)
    config_overrides: list[tuple[ConfigName, ConfigName, ArgStr]] = []

    def validate(self) -> JobStartRequest:
        check_units(self.units)
        for i, override in enumerate(self.config_overrides):
            check_config_override(override, f"$.config_overrides[{i}]")
        for key, value in self.options.items():
            check_option_key(key, f"$.options.{key[:40]}")
            check_arg(value, f"$.options.{key}")
        for i, arg in enumerate(self.args):
            check_arg(arg, f"$.args[{i}]")
        for key, text in self.env.items():
            check_env_name(key, f"$.env.{key[:40]}")
            check_arg(text, f"$.env.{key}")
        return self


class JobStopRequest(Wire):
    units: UnitList | None = None

    def validate(self) -> JobStopRequest:
        check_units(self.units)
        return self


class SettingsPatch(Wire):
    settings: Annotated[dict[SettingName, Value], Meta(min_length=1)]
    units: UnitList | None = None

    def validate(self) -> SettingsPatch:
        check_units(self.units)
        if not self.settings:
            raise BadRequest("No settings given at `$.settings`.")
        for key, value in self.settings.items():
            check_setting(key, f"$.settings.{key[:40]}")
            check_value(value, f"$.settings.{key}")
        return self


class OperationStep(Wire):
    unit: str
    status: StepStatus
    detail: str = ""
    updated_at: str | None = None


class OperationLine(Wire):
    seq: int
    time: str
    level: str
    text: str
    unit: str | None = None


class Operation(Wire):
    id: str
    kind: str
    status: OperationStatus
    trigger: Trigger
    params: dict[str, Any]
    targets: list[str]
    created_at: str
    started_at: str | None
    finished_at: str | None
    steps: list[OperationStep] = []
    # user:<name> | token:<id> | schedule:<id> | profile:<operation id> | cli:<os user> | development
    # | unknown (rows older than the field)
    requested_by: str = "unknown"
    # a `profile.run`: one entry per action per unit, in the order they fire (others: null)
    plan: list[PlanEntry] | None = None


class OperationAnswer(Wire):
    operation: Operation


class OperationsPage(Wire):
    """GET /api/operations: newest first; `next` is the `before` of the following page."""

    operations: list[Operation]
    next: str | None = None


class RunningJob(Wire):
    unit: str
    job_name: str
    experiment: str
    state: str
    settings: dict[str, Any] = {}


class JobState(Wire):
    unit: str
    experiment: str
    job: str
    state: str
    timestamp: str


class LogEntry(Wire):
    timestamp: str
    unit: str
    experiment: str
    job: str | None
    source: str
    level: str
    message: str
    author: str | None = None  # who wrote a manual note (`source: "user"`); null for a unit's logs


class LogsPage(Wire):
    logs: list[LogEntry]
    next: str | None = None


class TimeSeries(Wire):
    series: str
    columns: list[str]
    units: dict[str, list[list[float | None]]]


def parse_instant(value: str, field: str) -> datetime:
    """ISO 8601 with a UTC offset (`2026-11-21T09:30:00+01:00`, or `Z`): a time without one is ambiguous."""
    try:
        when = datetime.fromisoformat(value)
    except (TypeError, ValueError):
        when = None
    if when is None or when.tzinfo is None or len(value) > 40:
        raise BadRequest(
            f"Invalid time at `{field}`: ISO 8601 with an offset, e.g. 2026-11-21T09:30:00+01:00."
        )
    return when


EXPORT_MAX_HOURS = 24 * 366 * 10


# `last_hours` excludes `since` and `until` (validate() says so too)
_ONE_RANGE = {
    "not": {
        "anyOf": [
            {
                "required": ["last_hours", other],
                "properties": {"last_hours": {"type": "number"}, other: {"type": "string"}},
            }
            for other in ("since", "until")
        ]
    }
}
Instant = Annotated[str, Meta(max_length=40, description="ISO 8601 with a UTC offset")]


class ExportRequest(Wire):
    experiments: Annotated[list[ExperimentName], Meta(min_length=1)] | Literal["all"]
    datasets: list[str] = []
    # a time range: `since` / `until` (either may be left open), or the last N hours up to now
    since: Instant | None = None
    until: Instant | None = None
    last_hours: Annotated[float, Meta(gt=0, le=EXPORT_MAX_HOURS)] | None = None
    format: Literal["csv", "parquet"] = "csv"

    def validate(self) -> ExportRequest:
        if self.experiments != "all":
            if not self.experiments:
                raise BadRequest('No experiments given at `$.experiments`: names, or "all".')
            for i, exp in enumerate(self.experiments):
                check_experiment(exp, f"$.experiments[{i}]")
        since = parse_instant(self.since, "$.since") if self.since is not None else None
        until = parse_instant(self.until, "$.until") if self.until is not None else None
        if since and until and since >= until:
            raise BadRequest("Empty time range: `$.since` must be before `$.until`.")
        if self.last_hours is not None:
            if since or until:
                raise BadRequest("Give either `$.last_hours` or `$.since`/`$.until`, not both.")
            if not 0 < self.last_hours <= EXPORT_MAX_HOURS:
                raise BadRequest(f"Out of range at `$.last_hours`: more than 0, at most {EXPORT_MAX_HOURS}.")
        return self


# The body of POST /api/exports as documented: with its one cross-field rule (validate() checks it too)
ExportRequestSchema = Annotated[ExportRequest, Meta(extra_json_schema=_ONE_RANGE)]


class UnitCheck(Wire):
    """POST /api/units/<unit>/check: the agent answered and accepted our token."""

    unit: str
    reachable: bool
    token_accepted: bool
    agent: str
    versions: Any
    presence: Presence
    last_seen: str | None


class TokenCreate(Wire):
    name: TokenName
    role: Literal["viewer", "operator", "admin"] | None = None  # default: the creator's role

    def validate(self) -> TokenCreate:
        check_value(self.name, "$.name", 100)
        if not self.name.strip():
            raise BadRequest("Empty token name at `$.name`.")
        return self


class Token(Wire):
    id: int
    name: str
    created_at: str
    last_used_at: str | None = None
    role: Literal["viewer", "operator", "admin"] = "admin"  # as created; capped by the owner's current role
    owner: str | None = None  # the user who created it; null: created with the CLI


class TokenCreated(Token):
    token: str = ""


class HealthAnswer(Wire):
    status: str
    version: str
    schema_version: int
    setup_complete: bool = False
    timezone: str = "UTC"  # the lab's zone (the leader's TIMEZONE setting) for pages and exports


def settings_field(name: str) -> str:
    return check_setting(name, "setting")

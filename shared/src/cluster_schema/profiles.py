"""Experiment profiles: Pioreactor's own YAML format (`version: "1.0"`) and the /api/profiles bodies.

The profile Structs mirror the real decoder: unknown keys are refused on the profile, its blocks, jobs and
actions (`forbid_unknown_fields`), but not in `metadata`, `plugins` entries or a log's `options`. Actions are
a tagged union on `type`; a `repeat` holds only basic actions, so a `repeat` (or `when`) inside a `repeat`
is a decode error, as in Pioreactor. Semantic checks (time literals, expressions) are the leader's.
"""

from __future__ import annotations

from typing import Any, Literal

import msgspec

from .base import Wire

TimeValue = str | float  # a bare number is hours; a string is a literal like `30s`, `1.5m`, `2h`, `2d`


class _Action(msgspec.Struct, kw_only=True, forbid_unknown_fields=True, tag_field="type"):
    t: TimeValue | None = None
    hours_elapsed: float | None = None
    if_: bool | str = msgspec.field(default=True, name="if")


class Start(_Action, tag="start"):
    options: dict[str, Any] = {}
    args: list[str] = []
    config_overrides: dict[str, Any] = {}


class Update(_Action, tag="update"):
    options: dict[str, Any] = {}


class Stop(_Action, tag="stop"):
    pass


class Pause(_Action, tag="pause"):
    pass


class Resume(_Action, tag="resume"):
    pass


class LogOptions(msgspec.Struct, kw_only=True):
    message: str
    level: str = "NOTICE"  # DEBUG, INFO, NOTICE, WARNING, ERROR in any case (checked by validation)


class Log(_Action, tag="log"):
    options: LogOptions


BasicAction = Start | Update | Stop | Pause | Resume | Log


class Repeat(_Action, tag="repeat"):
    every: TimeValue | None = None
    repeat_every_hours: float | None = None
    while_: bool | str = msgspec.field(default=True, name="while")
    max_time: TimeValue | None = None
    max_hours: float | None = None
    actions: list[BasicAction] = []


class When(_Action, tag="when"):
    wait_until: str | None = None
    condition: str | None = None
    actions: list[Action] = []


Action = Start | Update | Stop | Pause | Resume | Log | Repeat | When


class Job(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    actions: list[Action]
    description: str | None = None


class CommonBlock(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    jobs: dict[str, Job] = {}


class PioreactorBlock(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    label: str | None = None
    jobs: dict[str, Job] = {}


class Metadata(msgspec.Struct, kw_only=True):
    author: str | None = None
    description: str | None = None


class Plugin(msgspec.Struct, kw_only=True):
    name: str
    version: str


class Profile(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    version: Literal["1.0"]
    experiment_profile_name: str
    metadata: Metadata = msgspec.field(default_factory=Metadata)
    plugins: list[Plugin] = []
    inputs: dict[str, Any] = {}
    common: CommonBlock = msgspec.field(default_factory=CommonBlock)
    pioreactors: dict[str, PioreactorBlock] = {}


# ---- the API's bodies and answers -------------------------------------------------------------------


class Diagnostic(Wire):
    severity: Literal["error", "warning"]
    code: str
    message: str
    path: str
    hint: str | None = None
    line: int | None = None  # 1-based line of `path` in the YAML text, for editors


class ProfilePut(Wire):
    yaml: str


class ProfileValidate(Wire):
    yaml: str


class ProfileAnswer(Wire):
    name: str
    yaml: str
    diagnostics: list[Diagnostic] = []


class ProfileSummary(Wire):
    name: str
    experiment_profile_name: str
    description: str | None
    updated_at: str


class DiagnosticsAnswer(Wire):
    diagnostics: list[Diagnostic]


class InvalidProfile(Wire):
    error: str
    message: str
    diagnostics: list[Diagnostic]


class ProfileRunRequest(Wire):
    dry_run: bool = False


PlanStatus = Literal["pending", "running", "done", "skipped", "failed"]


class PlanEntry(Wire):
    at: str
    unit: str
    job: str
    action: str
    status: PlanStatus
    operation_id: str | None = None
    detail: str = ""

"""Bodies and answers of the unit agent's `/unit_api`.

A type whose description belongs in the agent's OpenAPI document assigns `__doc__` rather than having a
docstring: the agent runs with -OO, which drops docstrings (tests/agent/test_agent_memory.py compares the
document built both ways)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from msgspec import Meta

from .base import Wire
from .errors import BadRequest
from .names import (
    IDENT_PATTERN,
    SETTABLE_STATES,
    STATE_SETTING,
    ArgStr,
    ArgValue,
    ConfigName,
    EnvName,
    ExperimentName,
    JobName,
    OptionName,
    Sha256,
    Value,
    check_arg,
    check_config_override,
    check_env_name,
    check_experiment,
    check_job,
    check_option_key,
    check_setting,
    check_state_value,
    check_unit,
    check_value,
)

# 16-512 printable ASCII characters, no spaces
CLUSTER_TOKEN_PATTERN = r"^[!-~]{16,512}$"  # noqa: S105 (a pattern, not a secret)
# Stored in a SQLite INTEGER column
JobId = Annotated[int, Meta(ge=0, le=2**63 - 1)]


class RunJobRequest(Wire):
    __doc__ = (
        "`env` names are limited further to the agent's `env_allowed` (its OpenAPI document lists them)."
    )

    experiment: ExperimentName | None = None
    options: dict[OptionName, ArgValue] = {}
    args: list[ArgStr] = []
    env: dict[EnvName, str] = {}
    config_overrides: list[tuple[ConfigName, ConfigName, ArgStr]] = []

    def validate(self) -> RunJobRequest:
        if self.experiment is not None:
            check_experiment(self.experiment, "$.experiment")
        for key, value in self.options.items():
            check_option_key(key, f"$.options.{key[:40]}")
            check_arg(value, f"$.options.{key}")
        for i, arg in enumerate(self.args):
            check_arg(arg, f"$.args[{i}]")
        for key, text in self.env.items():
            check_env_name(key, f"$.env.{key[:40]}")
            check_value(text, f"$.env.{key}")  # per name: the agent's Pio.env
        for i, override in enumerate(self.config_overrides):
            check_config_override(override, f"$.config_overrides[{i}]")
        return self


class StopJobsRequest(Wire):
    job_name: JobName | None = None
    experiment: ExperimentName | None = None
    job_source: JobName | None = None
    job_id: JobId | None = None
    all_jobs: bool = False

    def validate(self) -> StopJobsRequest:
        if not (
            self.job_name or self.experiment or self.job_source or self.job_id is not None or self.all_jobs
        ):
            raise BadRequest(
                "Nothing to stop: give at least one of `$.job_name`, `$.experiment`, `$.job_source`, "
                "`$.job_id` or `$.all_jobs`."
            )
        if self.job_name is not None:
            check_job(self.job_name, "$.job_name")
        if self.experiment is not None:
            check_experiment(self.experiment, "$.experiment")
        if self.job_source is not None:
            check_job(self.job_source, "$.job_source")
        return self


# The document's form of StopJobsRequest: "at least one" of the selectors, as `validate()` requires.
StopJobsSchema = Annotated[
    StopJobsRequest,
    Meta(
        extra_json_schema={
            "anyOf": [
                {"required": ["job_name"], "properties": {"job_name": {"type": "string"}}},
                {"required": ["experiment"], "properties": {"experiment": {"type": "string"}}},
                {"required": ["job_source"], "properties": {"job_source": {"type": "string"}}},
                {"required": ["job_id"], "properties": {"job_id": {"type": "integer"}}},
                {"required": ["all_jobs"], "properties": {"all_jobs": {"const": True}}},
            ]
        }
    ),
]


# A setting's name, or `$state` (pause, resume, stop through the job's own `$state/set`)
SettingKey = Annotated[str, Meta(pattern=rf"^(?:{IDENT_PATTERN[1:-1]}|\$state)$", max_length=64)]
_STATE_VALUE = {"type": "string", "enum": list(SETTABLE_STATES)}


class SettingsUpdateRequest(Wire):
    settings: Annotated[
        dict[SettingKey, Value],
        Meta(min_length=1, extra_json_schema={"properties": {STATE_SETTING: _STATE_VALUE}}),
    ]
    experiment: ExperimentName | None = None

    def validate(self) -> SettingsUpdateRequest:
        if not self.settings:
            raise BadRequest("No settings given at `$.settings`.")
        if self.experiment is not None:
            check_experiment(self.experiment, "$.experiment")
        for key, value in self.settings.items():
            if key == STATE_SETTING:  # pause, resume, stop through the job's own `$state/set`
                check_state_value(value, f"$.settings.{key}")
                continue
            check_setting(key, f"$.settings.{key[:40]}")
            check_value(value, f"$.settings.{key}")
        return self


class PluginRequest(Wire):
    name: Annotated[str, Meta(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")]
    version: Annotated[str, Meta(pattern=r"^[A-Za-z0-9][A-Za-z0-9.+!_-]{0,49}$")] | None = None


class Clock(Wire):
    __doc__ = "An RFC 3339 time with its offset (`2026-01-31T12:00:00Z`)."

    utc: Annotated[datetime, Meta(tz=True)]


class ConfigFileBody(Wire):
    content: str
    sha256: Sha256 | None = None  # when given, the write happens only if the current file has this hash


class ConfigFileAnswer(Wire):
    name: str
    content: str
    sha256: str


class TaskAnswer(Wire):
    task_id: str
    unit: str
    result_url_path: str


class TaskResult(Wire):
    status: Literal["complete", "pending", "unknown", "failed"]
    result: Any = None
    error: str | None = None


class Health(Wire):
    unit: str
    status: str
    agent_version: str
    schema_version: int


class Versions(Wire):
    agent: str
    pio: str
    python: str
    schema: int


class AgentRunningJob(Wire):
    job_id: int | None
    job_name: str
    experiment: str | None
    job_source: str | None
    pid: int | None
    started_at: str | None
    state: str | None = None  # the job's `$state` as last seen on MQTT (or in the registry)
    settings: dict[str, Any] = {}


class JobSettings(Wire):
    settings: dict[str, Any]


# Results of agent tasks (the `result` of a complete TaskResult).
class RunJobResult(Wire):
    """`finished`: the process exited 0 before reaching `ready` (one-shot jobs: led_intensity, add_media…)."""

    job_name: str
    state: Literal["ready", "already_running", "failed", "finished"]
    pid: int | None = None
    exit_code: int | None = None
    output_tail: str = ""
    experiment: str | None = None
    job_id: int | None = None


class Calibration(Wire):
    device: str
    name: str
    active: bool = False
    created_at: str | None = None
    content: str | None = None  # the calibration's YAML text (GET of one device only)


class Calibrations(Wire):
    calibrations: list[Calibration] = []


class ActiveCalibrationResult(Wire):
    device: str
    name: str
    active: bool


class Plugin(Wire):
    name: str
    version: str = ""
    description: str = ""
    homepage: str = ""
    source: str = ""


class Plugins(Wire):
    plugins: list[Plugin] = []


class StopJobsResult(Wire):
    stopped: list[str] = []
    still_running: list[str] = []
    not_running: bool = False
    exit_codes: dict[str, int | None] = {}


class SettingsResult(Wire):
    echoed: dict[str, Any] = {}
    not_echoed: list[str] = []


class CommandResult(Wire):
    command: list[str]
    exit_code: int | None
    output_tail: str = ""
    dry_run: bool = False


def unit_field(unit: str) -> str:
    return check_unit(unit, "unit")


class ClusterTokenPut(Wire):
    __doc__ = """PUT /unit_api/cluster_token (authenticated with the current token): the agent stores `token`
    as its cluster token (atomically) and accepts it from then on; the leader switches after every agent took
    it."""

    token: Annotated[str, Meta(pattern=CLUSTER_TOKEN_PATTERN)]

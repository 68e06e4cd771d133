"""Bodies and answers of the unit agent's `/unit_api`."""

from __future__ import annotations

from typing import Any, Literal

from .base import Scalar, Wire
from .errors import BadRequest
from .names import (
    STATE_SETTING,
    check_config_override,
    check_experiment,
    check_job,
    check_option_key,
    check_setting,
    check_state_value,
    check_unit,
    check_value,
)


class RunJobRequest(Wire):
    experiment: str | None = None
    options: dict[str, Scalar] = {}
    args: list[str] = []
    env: dict[str, str] = {}
    config_overrides: list[tuple[str, str, str]] = []

    def validate(self) -> RunJobRequest:
        if self.experiment is not None:
            check_experiment(self.experiment, "$.experiment")
        for key, value in self.options.items():
            check_option_key(key, f"$.options.{key[:40]}")
            check_value(value, f"$.options.{key}")
        for i, arg in enumerate(self.args):
            check_value(arg, f"$.args[{i}]")
        for key, value in self.env.items():
            if not key.isidentifier() or not key.isupper():
                raise BadRequest(f"Invalid environment variable name at `$.env.{key[:40]}`.")
            check_value(value, f"$.env.{key}")
        for i, override in enumerate(self.config_overrides):
            check_config_override(override, f"$.config_overrides[{i}]")
        return self


class StopJobsRequest(Wire):
    job_name: str | None = None
    experiment: str | None = None
    job_source: str | None = None
    job_id: int | None = None
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


class SettingsUpdateRequest(Wire):
    settings: dict[str, Scalar]
    experiment: str | None = None

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
    name: str
    version: str | None = None


class Clock(Wire):
    utc: str


class ConfigFileBody(Wire):
    content: str
    sha256: str | None = None  # when given, the write happens only if the current file has this hash


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
    """PUT /unit_api/cluster_token (authenticated with the current token): the agent stores `token` as its
    cluster token (atomically) and accepts it from then on; the leader switches after every agent took it."""

    token: str

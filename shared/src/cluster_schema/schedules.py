"""Schedules: `/api/schedules` bodies and answers.

A schedule is a trigger (tagged by `type`: interval | cron | date) and an action (tagged by `kind`, one per
operation kind). The actions extend the API's own request bodies (`JobStartRequest`, `ExportRequest`…), so a
scheduled action is validated by the same Struct and the same rules as the request it stands for.
Checks that need the store (the experiment exists, the job is known) are the leader's.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from msgspec import Meta

from . import cron
from .base import Wire
from .errors import BadRequest
from .leader import ExportRequest, JobStartRequest, JobStopRequest, Operation, SettingsPatch
from .names import (
    DISPLAY_NAME_PATTERN,
    ExperimentName,
    FileName,
    JobName,
    check_experiment,
    check_file_name,
    check_job,
)

MIN_INTERVAL = 1.0
MAX_INTERVAL = 366 * 86400.0


def parse_instant(value: str, field: str) -> datetime:
    """ISO 8601 with an offset (`Z` or `+02:00`); a time without one is ambiguous and refused."""
    try:
        parsed = datetime.fromisoformat(value)
    except (TypeError, ValueError):
        raise BadRequest(f"Invalid time at `{field}`: ISO 8601 such as 2026-05-01T08:00:00+02:00.") from None
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise BadRequest(f"Time without an offset at `{field}`: add `Z` or `+HH:MM`.")
    return parsed


def check_timezone(name: str, field: str = "$.trigger.timezone") -> str:
    try:
        if not name or name != name.strip():
            raise ValueError(name)
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise BadRequest(f"Unknown time zone at `{field}`: use an IANA name such as Europe/Berlin.") from None
    return name


# -- triggers ---------------------------------------------------------------------------------------


class IntervalTrigger(Wire, kw_only=True, tag_field="type", tag="interval"):
    seconds: Annotated[float, Meta(ge=MIN_INTERVAL, le=MAX_INTERVAL)]
    start: str | None = None  # first firing `seconds` after this (default: the schedule's creation)

    def validate(self) -> IntervalTrigger:
        if not self.seconds >= MIN_INTERVAL:
            raise BadRequest(f"Interval too short at `$.trigger.seconds`: at least {MIN_INTERVAL:g} s.")
        if not self.seconds <= MAX_INTERVAL:
            raise BadRequest(
                f"Interval too long at `$.trigger.seconds`: at most {MAX_INTERVAL:g} s (a year)."
            )
        if self.start is not None:
            parse_instant(self.start, "$.trigger.start")
        return self


class CronTrigger(Wire, kw_only=True, tag_field="type", tag="cron"):
    expression: str
    timezone: str | None = None  # IANA; the leader fills in its TIMEZONE setting when absent

    def validate(self) -> CronTrigger:
        cron.parse(self.expression, "$.trigger.expression")
        if self.timezone is not None:
            check_timezone(self.timezone)
        return self


class DateTrigger(Wire, kw_only=True, tag_field="type", tag="date"):
    at: str

    def validate(self) -> DateTrigger:
        if parse_instant(self.at, "$.trigger.at") <= datetime.now(UTC):
            raise BadRequest("Time in the past at `$.trigger.at`: a one-off schedule must lie ahead.")
        return self


Trigger = IntervalTrigger | CronTrigger | DateTrigger


# -- actions ----------------------------------------------------------------------------------------


def _in_action(check: Callable[[], object]) -> None:
    """The API bodies name their fields from the body's root; inside a schedule they sit under `$.action`."""
    try:
        check()
    except BadRequest as exc:
        raise BadRequest(exc.message.replace("`$.", "`$.action."), code=exc.code) from None


def _check_target(experiment: str, job: str | None = None) -> None:
    check_experiment(experiment, "$.action.experiment")
    if job is not None:
        check_job(job, "$.action.job")


# msgspec Structs take one base with fields: each action extends the API body it stands for and adds the
# experiment (and job) the URL carries there.
class JobStartAction(JobStartRequest, kw_only=True, tag_field="kind", tag="job.start"):
    experiment: ExperimentName
    job: JobName

    def validate(self) -> JobStartAction:
        _check_target(self.experiment, self.job)
        _in_action(super().validate)
        return self


class JobStopAction(JobStopRequest, kw_only=True, tag_field="kind", tag="job.stop"):
    experiment: ExperimentName
    job: JobName

    def validate(self) -> JobStopAction:
        _check_target(self.experiment, self.job)
        _in_action(super().validate)
        return self


class JobPauseAction(JobStopRequest, kw_only=True, tag_field="kind", tag="job.pause"):
    experiment: ExperimentName
    job: JobName

    def validate(self) -> JobPauseAction:
        _check_target(self.experiment, self.job)
        _in_action(super().validate)
        return self


class JobResumeAction(JobStopRequest, kw_only=True, tag_field="kind", tag="job.resume"):
    experiment: ExperimentName
    job: JobName

    def validate(self) -> JobResumeAction:
        _check_target(self.experiment, self.job)
        _in_action(super().validate)
        return self


class StopAllAction(JobStopRequest, kw_only=True, tag_field="kind", tag="jobs.stop_all"):
    experiment: ExperimentName

    def validate(self) -> StopAllAction:
        _check_target(self.experiment)
        _in_action(super().validate)
        return self


class JobSettingsAction(SettingsPatch, kw_only=True, tag_field="kind", tag="job.settings"):
    experiment: ExperimentName
    job: JobName

    def validate(self) -> JobSettingsAction:
        _check_target(self.experiment, self.job)
        _in_action(super().validate)
        return self


class ExportAction(ExportRequest, kw_only=True, tag_field="kind", tag="export"):
    def validate(self) -> ExportAction:
        _in_action(super().validate)
        return self


class ProfileRunAction(Wire, kw_only=True, tag_field="kind", tag="profile.run"):
    experiment: ExperimentName
    profile: FileName

    def validate(self) -> ProfileRunAction:
        _check_target(self.experiment)
        check_file_name(self.profile, "$.action.profile")
        return self


Action = (
    JobStartAction
    | JobStopAction
    | JobPauseAction
    | JobResumeAction
    | StopAllAction
    | JobSettingsAction
    | ExportAction
    | ProfileRunAction
)


NAME_MAX = 200
ScheduleName = Annotated[str, Meta(pattern=DISPLAY_NAME_PATTERN, min_length=1, max_length=NAME_MAX)]
_NAME = re.compile(DISPLAY_NAME_PATTERN)


def _check_name(name: str) -> None:
    if not name.strip():
        raise BadRequest("Empty schedule name at `$.name`.")
    if len(name) > NAME_MAX or not _NAME.fullmatch(name):
        raise BadRequest(
            f"Invalid schedule name at `$.name`: at most {NAME_MAX} characters, no line breaks, not starting "
            "with a space or '-'."
        )


# -- bodies and answers -----------------------------------------------------------------------------


class ScheduleCreate(Wire):
    name: ScheduleName
    trigger: Trigger
    action: Action
    enabled: bool = True

    def validate(self) -> ScheduleCreate:
        _check_name(self.name)
        self.trigger.validate()
        self.action.validate()
        return self


class SchedulePatch(Wire):
    """Any of the POST fields; what is given is validated as on POST."""

    name: ScheduleName | None = None
    trigger: Trigger | None = None
    action: Action | None = None
    enabled: bool | None = None

    def validate(self) -> SchedulePatch:
        if self.name is not None:
            _check_name(self.name)
        if self.trigger is not None:
            self.trigger.validate()
        if self.action is not None:
            self.action.validate()
        return self


class LastRun(Wire):
    at: str  # when the firing happened (ISO 8601 UTC)
    operation_id: str | None
    status: str | None  # the operation's status; null when the firing left no operation


class Schedule(Wire):
    id: int
    name: str
    trigger: Trigger
    action: Action
    enabled: bool
    next_run_at: str | None
    last_run: LastRun | None
    created_at: str = ""
    updated_at: str = ""


class ScheduleList(Wire):
    schedules: list[Schedule]


class Firing(Wire):
    due_at: str  # the due time the firing answered (run-now: when it was asked)
    fired_at: str
    manual: bool  # `POST /api/schedules/<id>/run`
    operation: Operation | None


class ScheduleHistory(Wire):
    history: list[Firing]
    next: str | None = None  # cursor: pass as `?before=`


class SchedulePreview(Wire):
    timezone: str
    next: list[str]  # ISO 8601 UTC
    local: list[str]  # the same instants in `timezone`, with their offsets

"""Decode a profile's YAML (a safe loader only) into the shared Structs and validate it, as diagnostics.

Diagnostics are `{severity, code, message, path}` with paths like `common.jobs.stirring.actions[1].t`.
Codes follow Pioreactor's `validate.py` where it has one (`time.invalid`, `time.negative`,
`time.non_positive`, `action.time.conflict`, `action.time.missing`, `when.condition.missing`,
`repeat.every.missing`, `expression.syntax`, `plugin.version.invalid`, the warnings
`when.condition.ambiguous`, `repeat.every.ambiguous`, `repeat.unreachable_action`,
`job.ordering.before_start`); decode failures get codes of ours: `yaml.syntax`, `field.unknown`,
`field.missing`, `field.invalid`, `repeat.nested`, `log.level.invalid`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import msgspec
import yaml

from cluster_schema.profiles import (
    Action,
    Diagnostic,
    Job,
    Log,
    Profile,
    Repeat,
    Start,
    Update,
    When,
)

from . import expr, yamlload

_TIME = re.compile(r"^([0-9]*\.?[0-9]+)([smhd])$", re.IGNORECASE)
_SECONDS = {"s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_VERSION = re.compile(r"^(==|>=|<=)?\s*[0-9]+(\.[0-9]+)*([a-z]+[0-9]*)?(\.post[0-9]+|\.dev[0-9]+)?$", re.I)
LOG_LEVELS = ("DEBUG", "INFO", "NOTICE", "WARNING", "ERROR")
_MSGSPEC_PATH = re.compile(r" - at `\$(.*)`$")


class TimeError(ValueError):
    pass


def seconds(value: str | float | None, field: str = "t") -> float:
    """A time value in seconds: a bare number is hours; a string is `<number><s|m|h|d>`."""
    if value is None:
        raise TimeError(f"`{field}` is missing.")
    if isinstance(value, bool):
        raise TimeError(_time_message(value))
    if isinstance(value, int | float):
        return float(value) * 3600.0
    m = _TIME.match(value.strip())
    if m is None:
        raise TimeError(_time_message(value))
    return float(m.group(1)) * _SECONDS[m.group(2).lower()]


def _time_message(value: Any) -> str:
    return f"Invalid time literal '{value}'. Expected float hours or string like '10s', '15m', '1.5h', '2d'."


def action_at(action: Action) -> float:
    """Seconds after its anchor (profile start, iteration start, condition met) that an action fires."""
    if action.hours_elapsed is not None:
        return action.hours_elapsed * 3600.0
    return seconds(action.t)


def repeat_every(action: Repeat) -> float:
    if action.repeat_every_hours is not None:  # Pioreactor: the legacy field wins when both are given
        return action.repeat_every_hours * 3600.0
    return seconds(action.every, "every")


def repeat_max(action: Repeat) -> float | None:
    if action.max_hours is not None:
        return action.max_hours * 3600.0
    return None if action.max_time is None else seconds(action.max_time, "max_time")


class Result(msgspec.Struct):
    profile: Profile | None
    diagnostics: list[Diagnostic]

    @property
    def ok(self) -> bool:
        return self.profile is not None and not any(d.severity == "error" for d in self.diagnostics)


def _err(code: str, message: str, path: str, hint: str | None = None) -> Diagnostic:
    return Diagnostic(severity="error", code=code, message=message, path=path, hint=hint)


def _warn(code: str, message: str, path: str) -> Diagnostic:
    return Diagnostic(severity="warning", code=code, message=message, path=path)


def _decode_error(exc: msgspec.ValidationError, prefix: str) -> Diagnostic:
    text = str(exc)
    m = _MSGSPEC_PATH.search(text)
    rel = m.group(1) if m else ""
    message = text[: m.start()] if m else text
    path = (prefix + rel).lstrip(".")
    if message.startswith("Object contains unknown field"):
        return _err("field.unknown", message + ".", path)
    if message.startswith("Object missing required field"):
        return _err("field.missing", message + ".", path)
    if message.startswith("Invalid value 'repeat'") or message.startswith("Invalid value 'when'"):
        return _err(
            "repeat.nested",
            "A `repeat` may only hold log, start, pause, resume, stop and update actions.",
            path,
        )
    return _err("field.invalid", message + ".", path)


def load(text: str) -> Result:
    """Decode and validate; `profile` is None when the text does not decode. Each diagnostic says its line."""
    result = _load(text)
    for d, line in zip(
        result.diagnostics, yamlload.lines_of(text, [d.path for d in result.diagnostics]), strict=True
    ):
        d.line = line
    return result


def _load(text: str) -> Result:
    try:
        raw = yamlload.load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        return Result(None, [_err("yaml.syntax", f"Invalid YAML{where}: {exc}", "")])
    if not isinstance(raw, dict):
        return Result(None, [_err("field.invalid", "A profile is a mapping (`key: value` lines).", "")])
    # msgspec says `jobs[...]` for dict keys: decode each job on its own so a path names its job
    diagnostics: list[Diagnostic] = []
    top = dict(raw)
    for block, base in _job_blocks(raw):
        jobs = block.get("jobs")
        if not isinstance(jobs, dict):
            continue
        for name, job in jobs.items():
            try:
                msgspec.convert(job, Job)
            except msgspec.ValidationError as exc:
                diagnostics.append(_decode_error(exc, f"{base}.jobs.{name}"))
    if diagnostics:
        top["common"] = _without_jobs(raw.get("common"))
        top["pioreactors"] = (
            {u: _without_jobs(b) for u, b in (raw.get("pioreactors") or {}).items()}
            if isinstance(raw.get("pioreactors"), dict)
            else raw.get("pioreactors")
        )
    try:
        profile = msgspec.convert(top, Profile)
    except msgspec.ValidationError as exc:
        return Result(None, [_decode_error(exc, ""), *diagnostics])
    if diagnostics:
        return Result(None, diagnostics)
    return Result(profile, list(validate(profile)))


def _job_blocks(raw: dict[str, Any]) -> Iterator[tuple[dict[str, Any], str]]:
    if isinstance(raw.get("common"), dict):
        yield raw["common"], "common"
    units = raw.get("pioreactors")
    if isinstance(units, dict):
        for unit, block in units.items():
            if isinstance(block, dict):
                yield block, f"pioreactors.{unit}"


def _without_jobs(block: Any) -> Any:
    return {**block, "jobs": {}} if isinstance(block, dict) else block


def jobs_of(profile: Profile) -> Iterator[tuple[str, str, Job]]:
    """(path prefix, job name, job) of every job block, common first."""
    for name, job in profile.common.jobs.items():
        yield f"common.jobs.{name}", name, job
    for unit, block in profile.pioreactors.items():
        for name, job in block.jobs.items():
            yield f"pioreactors.{unit}.jobs.{name}", name, job


def validate(profile: Profile) -> Iterator[Diagnostic]:
    for i, plugin in enumerate(profile.plugins):
        if not _VERSION.match(plugin.version.strip()):
            yield _err(
                "plugin.version.invalid",
                "Expected a version or one of `==`, `>=`, or `<=` followed by a valid version.",
                f"plugins[{i}].version",
            )
    for prefix, _name, job in jobs_of(profile):
        started = False
        for i, action in enumerate(job.actions):
            path = f"{prefix}.actions[{i}]"
            if isinstance(action, Start):
                started = True
            elif isinstance(action, Update) and not started:
                yield _warn(
                    "job.ordering.before_start",
                    "`update` occurs before any `start` action for this job.",
                    path,
                )
            yield from _action(action, path)


def _action(action: Action, path: str) -> Iterator[Diagnostic]:
    yield from _time(action, path)
    yield from _expression(action.if_, f"{path}.if")
    if isinstance(action, Start):
        for key, value in action.options.items():
            yield from _bracketed(value, f"{path}.options.{key}")
        for key, value in action.config_overrides.items():
            yield from _bracketed(value, f"{path}.config_overrides.{key}")
    elif isinstance(action, Update):
        for key, value in action.options.items():
            yield from _bracketed(value, f"{path}.options.{key}")
    elif isinstance(action, Log):
        if action.options.level.upper() not in LOG_LEVELS:
            yield _err(
                "log.level.invalid",
                f"Invalid log level '{action.options.level}': one of {', '.join(LOG_LEVELS)}.",
                f"{path}.options.level",
            )
        for m in expr.INTERPOLATION.finditer(action.options.message):
            yield from _syntax(m.group(1), f"{path}.options.message")
    elif isinstance(action, Repeat):
        yield from _repeat(action, path)
    elif isinstance(action, When):
        if action.wait_until is None and action.condition is None:
            yield _err("when.condition.missing", "`when` must define `condition` or `wait_until`.", path)
        elif action.wait_until is not None and action.condition is not None:
            yield _warn(
                "when.condition.ambiguous",
                "`when` defines both `condition` and `wait_until`; using `wait_until`.",
                path,
            )
        for key in ("wait_until", "condition"):
            value = getattr(action, key)
            if value is not None:
                yield from _expression(value, f"{path}.{key}")
        for i, child in enumerate(action.actions):
            yield from _action(child, f"{path}.actions[{i}]")


def _repeat(action: Repeat, path: str) -> Iterator[Diagnostic]:
    every: float | None = None
    if action.every is None and action.repeat_every_hours is None:
        yield _err("repeat.every.missing", "`repeat` must define `repeat_every_hours` or `every`.", path)
    else:
        if action.every is not None and action.repeat_every_hours is not None:
            yield _warn(
                "repeat.every.ambiguous",
                "`repeat` defines both `repeat_every_hours` and `every`; using `repeat_every_hours`.",
                path,
            )
        field = "repeat_every_hours" if action.repeat_every_hours is not None else "every"
        try:
            every = repeat_every(action)
            if every <= 0:
                yield _err("time.non_positive", f"`{field}` must be greater than zero.", f"{path}.{field}")
                every = None
        except TimeError as exc:
            yield _err("time.invalid", str(exc), f"{path}.{field}")
    if action.max_time is not None or action.max_hours is not None:
        field = "max_hours" if action.max_hours is not None else "max_time"
        try:
            limit = repeat_max(action)
            if limit is not None and limit <= 0:
                yield _err("time.non_positive", f"`{field}` must be greater than zero.", f"{path}.{field}")
        except TimeError as exc:
            yield _err("time.invalid", str(exc), f"{path}.{field}")
    yield from _expression(action.while_, f"{path}.while")
    for i, child in enumerate(action.actions):
        child_path = f"{path}.actions[{i}]"
        yield from _action(child, child_path)
        try:
            if every is not None and action_at(child) > every:
                yield _warn(
                    "repeat.unreachable_action",
                    "Action start time is greater than the repeat's cycle time, so it can never run.",
                    f"{child_path}.t",
                )
        except TimeError:
            pass


def _time(action: Action, path: str) -> Iterator[Diagnostic]:
    if action.t is not None and action.hours_elapsed is not None:
        yield _err(
            "action.time.conflict",
            "Action cannot define both `hours_elapsed` and `t`.",
            path,
            "Choose one of `t` or `hours_elapsed`.",
        )
        return
    if action.t is None and action.hours_elapsed is None:
        yield _err("action.time.missing", "Action must define exactly one of `hours_elapsed` or `t`.", path)
        return
    field = "t" if action.t is not None else "hours_elapsed"
    try:
        value = action_at(action)
    except TimeError as exc:
        yield _err("time.invalid", str(exc), f"{path}.t")
        return
    if value < 0:
        yield _err("time.negative", f"`{field}` cannot be negative.", f"{path}.{field}")


def _expression(value: bool | str, path: str) -> Iterator[Diagnostic]:
    if isinstance(value, str):
        yield from _syntax(expr.unwrap(value), path)


def _bracketed(value: Any, path: str) -> Iterator[Diagnostic]:
    m = expr.WRAPPED.match(str(value)) if isinstance(value, str) else None
    if m:
        yield from _syntax(m.group(1), path)


def _syntax(text: str, path: str) -> Iterator[Diagnostic]:
    try:
        expr.check(text)
    except expr.ExpressionError as exc:
        message = str(exc)
        if not message.startswith("Quoted"):
            message = f"Syntax error in expression `{text.strip()}`: {message}"
        yield _err("expression.syntax", message, path)

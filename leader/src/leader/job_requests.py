"""The one place a job start's or a settings change's operation params are built, checked against the
contrib descriptors first (the API and schedules both call these; a profile renders its own).

Where a job descriptor exists, every value it describes is checked: type, min/max, choices, and the
required ones present; an automation job's `automation_name` must name one of
contrib/automations/<kind>, whose fields are then checked too. Names the descriptors do not describe pass
(pio has options no descriptor lists), as does every value of a job without a descriptor (a plugin): the
request Structs already checked their names and values. A refusal is a 400 naming the field, raised before
any operation exists, so nothing reaches a unit.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from cluster_schema.contrib import AutomationDescriptor, JobDescriptor, Rules
from cluster_schema.errors import BadRequest

from . import contrib

TYPE_WORDS = {"numeric": "a number", "string": "text", "boolean": "true or false"}


def descriptor(contrib_dir: str, job: str) -> JobDescriptor | None:
    return next((d for d in contrib.jobs(contrib_dir) if d.job_name == job), None)


def automations(contrib_dir: str, job: JobDescriptor) -> list[AutomationDescriptor]:
    return contrib.automations(contrib_dir, job.automation_kind) if job.automation_kind else []


def _invalid(path: str, problem: str) -> BadRequest:
    return BadRequest(f"Invalid value at `{path}`: {problem}.", code="invalid_field")


def check_value(rule: Rules, value: Any, path: str) -> None:
    """`rule` is a JobOption, PublishedSetting or AutomationField (each has `type` and `unit`)."""
    kind = getattr(rule, "type", "json")
    if kind == "json":
        return
    number = isinstance(value, (int, float)) and not isinstance(value, bool)
    fits = {"numeric": number, "string": isinstance(value, str), "boolean": isinstance(value, bool)}[kind]
    if not fits:
        raise _invalid(path, f"expected {TYPE_WORDS[kind]}, got {value!r}")
    unit_name = getattr(rule, "unit", None)
    unit = f" {unit_name}" if unit_name else ""
    if number and rule.min is not None and value < rule.min:
        raise _invalid(path, f"{value} is below the minimum {rule.min:g}{unit}")
    if number and rule.max is not None and value > rule.max:
        raise _invalid(path, f"{value} is above the maximum {rule.max:g}{unit}")
    if rule.choices and value not in rule.choices:
        raise _invalid(path, f"{value!r} is not one of {', '.join(map(str, rule.choices))}")


def _check_all(rules: Sequence[Rules], given: dict[str, Any], at: str, whose: str) -> None:
    for rule in rules:
        key = getattr(rule, "key")  # noqa: B009 (every Rules subclass has one; Rules itself does not)
        if key in given:
            check_value(rule, given[key], f"{at}.{key}")
        elif rule.required:
            raise BadRequest(f"Missing `{at}.{key}`: {whose} needs it.", code="invalid_field")


def check_options(contrib_dir: str, job: str, options: dict[str, Any], at: str = "$.options") -> None:
    desc = descriptor(contrib_dir, job)
    if desc is None:
        return
    _check_all(desc.options, options, at, desc.job_name)
    if not desc.automation_kind:
        return
    known = automations(contrib_dir, desc)
    default = next((o.default for o in desc.options if o.key == "automation_name"), None)
    name = options.get("automation_name", default)
    chosen = next((a for a in known if a.automation_name == name), None)
    if chosen is None:
        choices = ", ".join(a.automation_name for a in known)
        raise _invalid(
            f"{at}.automation_name", f"{name!r} is not a {desc.automation_kind} automation ({choices})"
        )
    _check_all(chosen.fields, options, at, f"the {chosen.automation_name} automation")


def settings_rules(contrib_dir: str, job: str) -> dict[str, Rules]:
    """Every setting a job may publish: its own, then its automations' (the first description wins)."""
    desc = descriptor(contrib_dir, job)
    if desc is None:
        return {}
    found: dict[str, Rules] = {s.key: s for s in desc.published_settings}
    for auto in automations(contrib_dir, desc):
        for s in auto.published_settings:
            found.setdefault(s.key, s)
    return found


def check_settings(contrib_dir: str, job: str, settings: dict[str, Any], at: str = "$.settings") -> None:
    rules = settings_rules(contrib_dir, job)
    for key, value in settings.items():
        rule = rules.get(key)
        if rule is None:
            continue
        if not getattr(rule, "editable", False):
            raise BadRequest(f"Read-only setting at `{at}.{key}`: {job} publishes it.", code="invalid_field")
        check_value(rule, value, f"{at}.{key}")


def start_params(
    contrib_dir: str,
    experiment: str,
    job: str,
    *,
    options: dict[str, Any],
    args: Sequence[str] = (),
    env: dict[str, str] | None = None,
    config_overrides: Sequence[Sequence[str]] = (),
    at: str = "$",
) -> dict[str, Any]:
    """The `job.start` params, after the descriptor's checks (`at` prefixes the field paths named)."""
    check_options(contrib_dir, job, options, f"{at}.options")
    params: dict[str, Any] = {
        "experiment": experiment,
        "job": job,
        "options": options,
        "args": list(args),
        "env": env or {},
    }
    if config_overrides:
        params["config_overrides"] = [list(o) for o in config_overrides]
    return params


def settings_params(
    contrib_dir: str, experiment: str, job: str, settings: dict[str, Any], at: str = "$"
) -> dict[str, Any]:
    check_settings(contrib_dir, job, settings, f"{at}.settings")
    return {"experiment": experiment, "job": job, "settings": settings}

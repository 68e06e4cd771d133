"""Warnings for a profile's job options that the contrib descriptors would refuse.

A profile builds its own job start params (profiles/act.py) rather than going through
`job_requests.start_params`, so a value outside a descriptor's min/max, of the wrong type, or an unknown
automation would reach the units unchecked. These are warnings, not errors: Pioreactor's own profiles
often quote numbers (`target_rpm: "500"`) and must keep running, so a quoted number is read as the number
it spells, and a `${{ ... }}` expression (known only at run time) is not checked.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from cluster_schema.contrib import Rules
from cluster_schema.errors import BadRequest
from cluster_schema.profiles import Action, Diagnostic, Profile, Repeat, Start, Update, When

from .. import job_requests
from . import expr, yamlload
from .validate import jobs_of

CODE = "option.out_of_bounds"


def warnings(profile: Profile, text: str, contrib_dir: str) -> list[Diagnostic]:
    """Each warning with its line in `text`, like the other diagnostics."""
    found: list[Diagnostic] = []
    for prefix, job, block in jobs_of(profile):
        found += _actions(block.actions, f"{prefix}.actions", job, contrib_dir)
    for d, line in zip(found, yamlload.lines_of(text, [d.path for d in found]), strict=True):
        d.line = line
    return found


def _actions(actions: Sequence[Action], path: str, job: str, contrib_dir: str) -> Iterator[Diagnostic]:
    for i, action in enumerate(actions):
        at = f"{path}[{i}]"
        if isinstance(action, Repeat | When):
            yield from _actions(action.actions, f"{at}.actions", job, contrib_dir)
        elif isinstance(action, Start):
            rules, problem = _start_rules(contrib_dir, job, action.options)
            if problem:
                yield _warning(problem, f"{at}.options.automation_name")
            yield from _check(rules, action.options, f"{at}.options")
        elif isinstance(action, Update):
            yield from _check(job_requests.settings_rules(contrib_dir, job), action.options, f"{at}.options")


def _start_rules(contrib_dir: str, job: str, options: dict[str, Any]) -> tuple[dict[str, Rules], str]:
    """The rules for a start's options (the job's, then its chosen automation's), and what is wrong with
    the automation's name if anything."""
    desc = job_requests.descriptor(contrib_dir, job)
    if desc is None:  # a plugin's job: nothing describes it
        return {}, ""
    rules: dict[str, Rules] = {o.key: o for o in desc.options}
    if not desc.automation_kind:
        return rules, ""
    default = next((o.default for o in desc.options if o.key == "automation_name"), None)
    name = options.get("automation_name", default)
    if _expression(name):
        return rules, ""
    known = job_requests.automations(contrib_dir, desc)
    chosen = next((a for a in known if a.automation_name == name), None)
    if chosen is None:
        choices = ", ".join(a.automation_name for a in known)
        return rules, f"{name!r} is not a {desc.automation_kind} automation ({choices})"
    for f in chosen.fields:
        rules.setdefault(f.key, f)
    return rules, ""


def _check(rules: dict[str, Rules], options: dict[str, Any], at: str) -> Iterator[Diagnostic]:
    for key, value in options.items():
        rule = rules.get(key)
        if rule is None or _expression(value) or key == "automation_name":
            continue
        try:
            job_requests.check_value(rule, _unquoted(rule, value), f"{at}.{key}")
        except BadRequest as exc:
            yield _warning(
                exc.message.removeprefix(f"Invalid value at `{at}.{key}`: ").rstrip("."), f"{at}.{key}"
            )


def _unquoted(rule: Rules, value: Any) -> Any:
    if getattr(rule, "type", None) == "numeric" and isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return value
    return value


def _expression(value: Any) -> bool:
    return isinstance(value, str) and expr.WRAPPED.match(value.strip()) is not None


def _warning(problem: str, path: str) -> Diagnostic:
    return Diagnostic(
        severity="warning",
        code=CODE,
        message=f"Outside what the job's descriptor allows: {problem}. The profile still runs.",
        path=path,
    )

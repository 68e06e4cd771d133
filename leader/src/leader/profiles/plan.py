"""Plan a profile run: one row per top-level action per unit, at the profile's start plus the action's `t`.

`common` actions go to the experiment's active assigned units as of the run's start (as in Pioreactor, units
assigned later get none); a `pioreactors.<unit>` block for a unit not assigned to the experiment is skipped
with a warning naming both: no row is planned for it, and none is added later, so its actions are skipped for
the whole run. `repeat` and `when` rows add their nested rows (for their own unit) when they fire (`driver`),
so a repeat with no end or a condition not met yet costs one row, not an unbounded list.
"""

from __future__ import annotations

from collections.abc import Iterable

from cluster_schema.profiles import Action, Diagnostic, Job, Profile, Repeat, When

from ..db.profiles import Row
from .validate import action_at

# Pioreactor's same-time order (`get_simple_priority`); ties keep the profile's order.
PRIORITY = {"start": 0, "stop": 1, "pause": 2, "resume": 3, "update": 4, "when": 5, "repeat": 6, "log": 10}


def kind(action: Action) -> str:
    return type(action).__name__.lower()


def plan(
    profile: Profile,
    started: float,
    common_units: Iterable[str],
    assigned: Iterable[str],
    *,
    experiment: str,
) -> tuple[list[Row], list[Diagnostic]]:
    rows: list[Row] = []
    warnings: list[Diagnostic] = []
    units = list(common_units)
    for name, job in profile.common.jobs.items():
        for i, action in enumerate(job.actions):
            at = started + action_at(action)
            for unit in units:
                rows.append(Row(at, PRIORITY[kind(action)], unit, "", name, kind(action), (i,)))
    members = set(assigned)
    for unit, block in profile.pioreactors.items():
        if unit not in members:
            label = " and its label" if block.label is not None else ""  # runs.py labels assigned units only
            warnings.append(
                Diagnostic(
                    severity="warning",
                    code="unit.not_assigned",
                    message=f"unit {unit} is not assigned to experiment {experiment!r}; its actions{label} "
                    "are skipped for this whole run (not scheduled, even if it is assigned later)",
                    path=f"pioreactors.{unit}",
                )
            )
            continue
        for name, job in block.jobs.items():
            for i, action in enumerate(job.actions):
                rows.append(
                    Row(
                        started + action_at(action),
                        PRIORITY[kind(action)],
                        unit,
                        unit,
                        name,
                        kind(action),
                        (i,),
                    )
                )
    return rows, warnings


def job_of(profile: Profile, block: str, job: str) -> Job:
    return profile.pioreactors[block].jobs[job] if block else profile.common.jobs[job]


def resolve(profile: Profile, block: str, job: str, idx: tuple[int, ...]) -> Action:
    """The action a plan row stands for: its index in the job, then indexes into repeat/when actions."""
    action: Action = job_of(profile, block, job).actions[idx[0]]
    for i in idx[1:]:
        assert isinstance(action, Repeat | When)
        action = action.actions[i]
    return action

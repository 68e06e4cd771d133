"""Descriptors of contrib YAML: jobs, automations and charts (validated, never executed)."""

from __future__ import annotations

from typing import Literal

import msgspec

from .base import Scalar

SettingType = Literal["numeric", "string", "boolean", "json"]
AutomationKind = Literal["temperature", "dosing", "led"]


class Descriptor(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Descriptors are files we author, not messages from peers: a misspelt key is an error, not noise."""


class Rules(Descriptor, kw_only=True):
    """Optional constraints on a value a person enters, all with defaults so older descriptors still load.

    The start and settings forms turn them into HTML constraints; the leader checks them again before
    anything reaches a unit (`leader.job_requests`). `min`/`max` bound a numeric value; `choices` lists the
    only values allowed; `required` means the start must name this field.
    """

    min: float | None = None
    max: float | None = None
    required: bool = False
    choices: list[Scalar] = []


class PublishedSetting(Rules, kw_only=True):
    key: str
    type: SettingType
    display: bool = True
    editable: bool = False
    label: str = ""
    unit: str | None = None
    description: str = ""
    default: Scalar = None


class JobOption(Rules, kw_only=True):
    key: str
    type: SettingType
    default: Scalar = None
    label: str = ""
    unit: str | None = None
    description: str = ""


class JobDescriptor(Descriptor, kw_only=True):
    job_name: str
    display_name: str
    description: str
    source: str = "app"
    # the kind of automation this job runs: its start form offers contrib/automations/<kind> by name
    automation_kind: AutomationKind | None = None
    options: list[JobOption] = []
    published_settings: list[PublishedSetting] = []


class AutomationField(Rules, kw_only=True):
    key: str
    label: str
    type: SettingType = "numeric"
    default: Scalar = None
    unit: str | None = None
    description: str = ""
    disabled: bool = False


class AutomationDescriptor(Descriptor, kw_only=True):
    automation_name: str
    display_name: str
    description: str
    fields: list[AutomationField] = []
    published_settings: list[PublishedSetting] = []


def rule_problems(desc: Descriptor) -> list[str]:
    """Rules that contradict themselves (min above max, a default outside them): the loader skips such a
    file, as it skips one that does not decode. Kept out of `__post_init__` so any Struct value encodes."""
    found = []
    for attr in ("options", "fields", "published_settings"):
        for rule in getattr(desc, attr, []):
            where = f"{attr}.{rule.key}"
            lo, hi, default = rule.min, rule.max, rule.default
            if lo is not None and hi is not None and lo > hi:
                found.append(f"{where}: min {lo:g} is above max {hi:g}")
            number = isinstance(default, (int, float)) and not isinstance(default, bool)
            if number and ((lo is not None and default < lo) or (hi is not None and default > hi)):
                found.append(f"{where}: default {default} is outside min/max")
            if default is not None and rule.choices and default not in rule.choices:
                found.append(f"{where}: default {default!r} is not one of the choices")
    # a chart's y hints: the axis spans at least [y_min, y_max], so an empty span is a mistake
    y_min, y_max = getattr(desc, "y_min", None), getattr(desc, "y_max", None)
    if y_min is not None and y_max is not None and y_min >= y_max:
        found.append(f"y_min {y_min:g} is not below y_max {y_max:g}")
    return found


class ChartDescriptor(Descriptor, kw_only=True):
    """A time series the leader ingests and charts.

    `mqtt_topic` is relative to `pioreactor/<unit>/<exp>/` (e.g. `od_reading/ods`); `payload_key` is a
    dotted path into the JSON payload (`od_filtered.od`, `growth_rate`); an empty key means the payload is
    the number itself.
    """

    key: str
    title: str
    mqtt_topic: str
    payload_key: str = ""
    y_axis_label: str = ""
    source: str = ""
    lookback_hours: float = 24.0
    fixed_decimals: int = 2
    y_min: float | None = None
    y_max: float | None = None
    scale: float = 1.0  # a plain multiplier, never code (e.g. per-hour growth rate stays 1.0)
    # non-empty: unit cards show this series' latest value under this short label, with `unit`
    card_label: str = ""
    unit: str = ""

"""Descriptors of contrib YAML: jobs, automations and charts (validated, never executed)."""

from __future__ import annotations

from typing import Literal

import msgspec

from .base import Scalar

SettingType = Literal["numeric", "string", "boolean", "json"]
AutomationKind = Literal["temperature", "dosing", "led"]


class Descriptor(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Descriptors are files we author, not messages from peers: a misspelt key is an error, not noise."""


class PublishedSetting(Descriptor):
    key: str
    type: SettingType
    display: bool = True
    editable: bool = False
    label: str = ""
    unit: str | None = None
    description: str = ""
    default: Scalar = None


class JobOption(Descriptor):
    key: str
    type: SettingType
    default: Scalar = None
    label: str = ""
    unit: str | None = None
    description: str = ""


class JobDescriptor(Descriptor):
    job_name: str
    display_name: str
    description: str
    source: str = "app"
    options: list[JobOption] = []
    published_settings: list[PublishedSetting] = []


class AutomationField(Descriptor):
    key: str
    label: str
    type: SettingType = "numeric"
    default: Scalar = None
    unit: str | None = None
    description: str = ""
    disabled: bool = False


class AutomationDescriptor(Descriptor):
    automation_name: str
    display_name: str
    description: str
    fields: list[AutomationField] = []
    published_settings: list[PublishedSetting] = []


class ChartDescriptor(Descriptor):
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

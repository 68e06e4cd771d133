"""Alerts: what the leader watches (built-in conditions and threshold rules), where it says so (channels),
and what it recorded (alerts with their deliveries). Routes under `/api/alerts` (admin; reads viewer).

Wire rules as everywhere: unknown fields are ignored, new fields have defaults. A stored SMTP password is
never answered: `EmailChannel.password` is write-only (`null` keeps the stored one, `""` clears it) and the
answer says `password_set` instead.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

import msgspec
from msgspec import Meta

from .errors import BadRequest
from .names import ExperimentName

AlertKind = Literal[
    "unit_offline", "operation_failed", "job_lost", "ingest_stalled", "disk_full", "threshold", "test"
]
Severity = Literal["warning", "critical"]
DeliveryStatus = Literal["pending", "sending", "delivered", "failed"]
Op = Literal[">", "<"]


# http(s)://host[:port] then an optional path, query or fragment; no spaces or control characters
URL_PATTERN = r"^[Hh][Tt][Tt][Pp][Ss]?://[^/?#\x00-\x20\x7f-\xa0]+(?:[/?#][^\x00-\x20\x7f-\xa0]*)?$"
HOST_PATTERN = r"^[A-Za-z0-9_.:\[\]-]{1,253}$"
EMAIL_PATTERN = r"^[^@\x00-\x20\x7f-\xa0]+@[^@\x00-\x20\x7f-\xa0]+$"
_URL, _HOST, _EMAIL = re.compile(URL_PATTERN), re.compile(HOST_PATTERN), re.compile(EMAIL_PATTERN)
Url = Annotated[str, Meta(pattern=URL_PATTERN, max_length=2000)]
EmailAddress = Annotated[str, Meta(pattern=EMAIL_PATTERN, max_length=254)]
Seconds = Annotated[float, Meta(ge=0)]
Percent = Annotated[float, Meta(ge=0, le=100)]
SeriesKey = Annotated[str, Meta(max_length=100)]


def check_http_url(url: str, path: str) -> None:
    if not isinstance(url, str) or len(url) > 2000 or not _URL.fullmatch(url):
        raise BadRequest(f"Invalid webhook URL at `{path}`: an http:// or https:// URL is required.")
    try:  # what the pattern lets through but a URL parser refuses: `http://[x`, a port out of range
        urlsplit(url).port  # noqa: B018 (parsed for its ValueError)
    except ValueError as exc:
        raise BadRequest(f"Invalid webhook URL at `{path}`: {exc}.") from None


class WebhookChannel(msgspec.Struct, kw_only=True):
    url: Url
    enabled: bool = True


class EmailChannel(msgspec.Struct, kw_only=True):
    host: Annotated[str, Meta(pattern=HOST_PATTERN, max_length=253)]
    port: Annotated[int, Meta(ge=1, le=65535)] = 587
    # auto: STARTTLS when the server offers it; always: refuse to send without it; never: plain.
    starttls: Literal["auto", "always", "never"] = "auto"
    username: Annotated[str, Meta(max_length=320)] = ""
    password: Annotated[str, Meta(max_length=1000)] | None = None  # write-only; `null` keeps the stored one
    sender: EmailAddress = msgspec.field(name="from")
    to: Annotated[list[EmailAddress], Meta(min_length=1, max_length=100)]
    enabled: bool = True


class AlertChannels(msgspec.Struct, kw_only=True):
    """Body of PUT /api/alerts/channels: replaces every channel."""

    webhooks: list[WebhookChannel] = msgspec.field(default_factory=list)
    email: EmailChannel | None = None

    def validate(self) -> AlertChannels:
        for i, hook in enumerate(self.webhooks):
            check_http_url(hook.url, f"$.webhooks[{i}].url")
        if self.email is not None:
            if not _HOST.fullmatch(self.email.host):
                raise BadRequest("Missing SMTP host at `$.email.host`.")
            if not 0 < self.email.port < 65536:
                raise BadRequest("Invalid port at `$.email.port`: 1-65535.")
            if not self.email.to or not all(_EMAIL.fullmatch(a) for a in self.email.to):
                raise BadRequest("Invalid recipients at `$.email.to`: one or more e-mail addresses.")
            if not _EMAIL.fullmatch(self.email.sender):
                raise BadRequest("Invalid sender at `$.email.from`: an e-mail address.")
        return self


class EmailChannelView(msgspec.Struct, kw_only=True):
    host: str
    port: int
    starttls: str
    username: str
    password_set: bool
    sender: str = msgspec.field(name="from", default="")
    to: list[str] = msgspec.field(default_factory=list)
    enabled: bool = True


class AlertChannelsView(msgspec.Struct, kw_only=True):
    webhooks: list[WebhookChannel] = msgspec.field(default_factory=list)
    email: EmailChannelView | None = None


class BuiltinRules(msgspec.Struct, kw_only=True):
    """Parameters of the built-in conditions; 0 turns a timed condition off."""

    unit_offline_after_s: float = 300.0  # a unit offline or lost for longer than this
    operation_failed: bool = True  # an operation finished failed or partial
    job_lost: bool = True  # a job's last state is `lost`
    ingest_stalled_after_s: float = 900.0  # no message from any unit for this long while units are online
    disk_used_max_percent: float = 90.0  # the leader's store's disk fuller than this

    def validate(self) -> BuiltinRules:
        for name in ("unit_offline_after_s", "ingest_stalled_after_s"):
            if getattr(self, name) < 0:
                raise BadRequest(f"Invalid value at `$.{name}`: seconds >= 0.")
        if not 0 <= self.disk_used_max_percent <= 100:
            raise BadRequest("Invalid value at `$.disk_used_max_percent`: 0-100.")
        return self


class BuiltinRulesPatch(msgspec.Struct, kw_only=True):
    unit_offline_after_s: Seconds | None = None
    operation_failed: bool | None = None
    job_lost: bool | None = None
    ingest_stalled_after_s: Seconds | None = None
    disk_used_max_percent: Percent | None = None


class ThresholdRuleCreate(msgspec.Struct, kw_only=True):
    """A reading of `series` (a chart descriptor key) in `experiment` `op` `value` for `hold_seconds`."""

    experiment: ExperimentName
    series: SeriesKey
    op: Op
    value: float
    hold_seconds: Seconds = 60.0
    enabled: bool = True

    def validate(self) -> ThresholdRuleCreate:
        if self.hold_seconds < 0:
            raise BadRequest("Invalid value at `$.hold_seconds`: seconds >= 0.")
        return self


class ThresholdRulePatch(msgspec.Struct, kw_only=True):
    experiment: ExperimentName | None = None
    series: SeriesKey | None = None
    op: Op | None = None
    value: float | None = None
    hold_seconds: Seconds | None = None
    enabled: bool | None = None


class ThresholdRule(msgspec.Struct, kw_only=True):
    id: int
    experiment: str
    series: str
    op: Op
    value: float
    hold_seconds: float
    enabled: bool
    created_at: str


class AlertRules(msgspec.Struct, kw_only=True):
    builtin: BuiltinRules
    thresholds: list[ThresholdRule]


class DeliveryAttempt(msgspec.Struct, kw_only=True):
    at: str
    ok: bool
    status_code: int | None = None  # HTTP status or SMTP reply code
    reason: str = ""
    duration_ms: int = 0


class AlertDelivery(msgspec.Struct, kw_only=True):
    id: int
    event: Literal["fired", "resolved", "test"]
    channel: Literal["webhook", "email"]
    target: str  # the recipients, or the webhook's scheme and host only (its path may hold a secret)
    status: DeliveryStatus
    attempts: list[DeliveryAttempt] = msgspec.field(default_factory=list)
    next_attempt_at: str | None = None


class Alert(msgspec.Struct, kw_only=True):
    id: int
    key: str  # what the condition is about, e.g. `unit_offline:unit2`; open at most once at a time
    kind: AlertKind
    severity: Severity
    summary: str
    details: dict[str, Any] = msgspec.field(default_factory=dict)
    fired_at: str
    resolved_at: str | None = None
    deliveries: list[AlertDelivery] = msgspec.field(default_factory=list)


class AlertEvent(Alert, kw_only=True):
    """An `alert` event of GET /api/events: the alert as answered now, what happened (`state`: it opened,
    or it resolved; a one-off alert is recorded resolved at once) and how many alerts are open now."""

    state: Literal["open", "resolved"] = "open"
    open_count: int = 0


class WebhookPayload(msgspec.Struct, kw_only=True):
    """What a webhook receives (JSON POST)."""

    event: Literal["fired", "resolved", "test"]
    alert: Alert
    cluster: str = ""  # the leader's URL or name, when configured (ALERTS_CLUSTER_NAME)

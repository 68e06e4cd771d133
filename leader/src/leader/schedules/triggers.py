"""A schedule's trigger as an APScheduler trigger, and the due times it yields.

Due times are deterministic — the same schedule gives the same instants in every process and after every
restart — because the store keys each firing by (schedule id, due time): an interval's grid starts at
`start` (or the schedule's `active_since`) plus `seconds`; cron and date times are what they say.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.date import DateTrigger as _ApsDate
from apscheduler.triggers.interval import IntervalTrigger as _ApsInterval
from flask import Flask

from cluster_schema import cron as cron_syntax
from cluster_schema.schedules import CronTrigger, DateTrigger, IntervalTrigger, Trigger, parse_instant

from .cron import StandardCronTrigger

DEFAULT_TIMEZONE = "UTC"


def iso(t: datetime) -> str:
    """The store's timestamp format (ISO 8601 UTC, milliseconds, `Z`): due-time keys compare as text."""
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def parse_iso(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def default_timezone(app: Flask) -> str:
    """The lab's zone (the leader's TIMEZONE setting), the default of cron schedules."""
    return str(app.config.get("TIMEZONE") or DEFAULT_TIMEZONE)


def zone(trigger: CronTrigger, default: str) -> tzinfo:
    return ZoneInfo(trigger.timezone or default or DEFAULT_TIMEZONE)


def build(trigger: Trigger, active_since: str, default_tz: str = DEFAULT_TIMEZONE) -> BaseTrigger:
    if isinstance(trigger, IntervalTrigger):
        anchor = parse_instant(trigger.start, "$.trigger.start") if trigger.start else parse_iso(active_since)
        # APScheduler's first firing is at `start_date` itself; ours is `seconds` after the anchor
        first = anchor + timedelta(seconds=trigger.seconds)
        return _ApsInterval(seconds=trigger.seconds, start_date=first, timezone=UTC)
    if isinstance(trigger, CronTrigger):
        return StandardCronTrigger(cron_syntax.parse(trigger.expression), zone(trigger, default_tz))
    assert isinstance(trigger, DateTrigger)
    return _ApsDate(run_date=parse_instant(trigger.at, "$.trigger.at"), timezone=UTC)


def first_due(trig: BaseTrigger, last_due: str | None, active_since: str) -> datetime | None:
    """The next due time of a schedule: after its last scheduled firing, or from `active_since` on.

    May lie in the past (the worker was down): the scheduler then fires it once if it is within the
    misfire grace window.
    """
    since = parse_iso(active_since)
    if last_due is not None:
        last = parse_iso(last_due)
        if last >= since:
            if isinstance(trig, _ApsInterval):  # back on the grid (the stored key is cut to milliseconds)
                return trig.get_next_fire_time(None, last + timedelta(milliseconds=1))
            return trig.get_next_fire_time(last, last)
    return trig.get_next_fire_time(None, since)


def upcoming(trig: BaseTrigger, after: datetime, count: int = 5) -> list[datetime]:
    """The next `count` due times strictly after `after`."""
    out: list[datetime] = []
    previous: datetime | None = None
    t = trig.get_next_fire_time(None, after + timedelta(microseconds=1))
    while t is not None and len(out) < count:
        if previous is None or t > previous:
            out.append(t)
        previous = t
        t = trig.get_next_fire_time(t, t)
    return out

"""Standard cron as an APScheduler trigger, with one documented daylight-saving rule.

APScheduler runs the schedules (timing, misfires, coalescing, one instance at a time); this trigger only
answers "when next?". APScheduler 3.11's own `CronTrigger` is not used for that: `from_crontab` counts
day-of-week 0 as Monday and ANDs the two day fields, and around daylight-saving changes it is inconsistent
(asked for the time after 02:30 on the night the clocks go back it answers 02:30 again, for ever; in spring
it moves `30 2 * * *` past the gap but drops `30 * * * *`'s firing). Wall-clock matching over the values
`cluster_schema.cron` parsed is short and exact:

* crontab(5) semantics: 0 and 7 are Sunday; when both day fields are restricted, either may match;
* a local time the zone skips (the hour lost in spring) fires at the first valid instant after the gap
  (a 02:30 job on a 02:00→03:00 night fires at 03:00), once;
* a local time that happens twice (the hour repeated in autumn) fires once, at its first occurrence, when the
  expression names its hours; an expression whose hour field starts with `*` (every hour, `*/2`…) keeps its
  real-time rhythm through the repeated hour (Vixie cron's rule too).

Every instant returned is in UTC: aware datetimes sharing a zone compare by wall time, fold ignored.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from apscheduler.triggers.base import BaseTrigger

from cluster_schema.cron import Cron

SEARCH_DAYS = 5 * 366 + 1  # an expression with no firing in five years (e.g. 30 February) never fires
_SLACK = timedelta(hours=3)  # more than any daylight-saving shift: how far a wall time's instant may move


def day_matches(cron: Cron, day: date) -> bool:
    if day.month not in cron.months:
        return False
    in_month = day.day in cron.days
    in_week = day.isoweekday() % 7 in cron.weekdays  # isoweekday: Monday 1 … Sunday 7 → Sunday 0
    return (in_month or in_week) if cron.day_or_weekday else (in_month and in_week)


def _walls(cron: Cron, start: datetime) -> Iterator[datetime]:
    """Matching naive wall times from `start` on, in order, for at most SEARCH_DAYS."""
    times = [time(h, m) for h in sorted(cron.hours) for m in sorted(cron.minutes)]
    for offset in range(SEARCH_DAYS):
        day = start.date() + timedelta(days=offset)
        if day_matches(cron, day):
            for t in times:
                wall = datetime.combine(day, t)
                if wall >= start:
                    yield wall


def _gap_end(wall: datetime, tz: tzinfo) -> datetime:
    """The first valid instant after a skipped wall time: the transition itself (UTC)."""
    a = wall.replace(tzinfo=tz, fold=0).astimezone(UTC)  # the wall time read with one offset...
    b = wall.replace(tzinfo=tz, fold=1).astimezone(UTC)  # ... and with the other
    lo, hi = min(a, b), max(a, b)
    offset = hi.astimezone(tz).utcoffset()
    while hi - lo > timedelta(seconds=1):  # transitions fall on whole seconds
        mid = lo + (hi - lo) / 2
        if mid.astimezone(tz).utcoffset() == offset:
            hi = mid
        else:
            lo = mid
    return hi.replace(microsecond=0)


def instants(cron: Cron, wall: datetime, tz: tzinfo) -> list[datetime]:
    """The UTC instants a matching wall time fires at, by the rules above."""
    first = wall.replace(tzinfo=tz, fold=0).astimezone(UTC)
    if first.astimezone(tz).replace(tzinfo=None) != wall:  # skipped by the zone
        return [_gap_end(wall, tz)]
    second = wall.replace(tzinfo=tz, fold=1).astimezone(UTC)
    if second != first and not cron.hours_restricted:  # repeated, and the hour field is `*…`
        return [first, second]
    return [first]


def next_after(cron: Cron, tz: tzinfo, after: datetime, inclusive: bool = False) -> datetime | None:
    """The first firing instant after `after` (at or after, with `inclusive`), in UTC."""
    after = after.astimezone(UTC)
    start = (after.astimezone(tz).replace(tzinfo=None) - _SLACK).replace(second=0, microsecond=0)
    best: datetime | None = None
    best_wall: datetime | None = None
    for wall in _walls(cron, start):
        if best_wall is not None and wall > best_wall + _SLACK:
            break  # no later wall time can map to an earlier instant
        for t in instants(cron, wall, tz):
            if (t > after or (inclusive and t == after)) and (best is None or t < best):
                best, best_wall = t, wall
    return best


class StandardCronTrigger(BaseTrigger):
    def __init__(self, cron: Cron, tz: tzinfo) -> None:
        self.cron = cron
        self.timezone = tz

    def get_next_fire_time(self, previous_fire_time: datetime | None, now: datetime) -> datetime | None:
        # as APScheduler's own: after the previous firing (so missed ones can be counted), else from now
        if previous_fire_time is not None:
            return next_after(self.cron, self.timezone, previous_fire_time)
        return next_after(self.cron, self.timezone, now, inclusive=True)

    def __str__(self) -> str:
        return f"cron[{self.timezone}]"

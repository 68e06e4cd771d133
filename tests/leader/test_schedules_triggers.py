"""Schedule triggers against fixed clocks: standard cron semantics, the DST rule, interval grids."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from apscheduler.triggers.cron import CronTrigger as ApsCron

from cluster_schema import cron
from cluster_schema.errors import BadRequest
from cluster_schema.schedules import CronTrigger, DateTrigger, IntervalTrigger
from leader.schedules.cron import StandardCronTrigger
from leader.schedules.triggers import build, first_due, iso, upcoming

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")


def local_times(expression: str, tz: ZoneInfo, after: datetime, n: int) -> list[str]:
    trig = StandardCronTrigger(cron.parse(expression), tz)
    return [t.astimezone(tz).strftime("%a %m-%d %H:%M%z") for t in upcoming(trig, after, n)]


def utc_times(expression: str, tz: ZoneInfo, after: datetime, n: int) -> list[str]:
    trig = StandardCronTrigger(cron.parse(expression), tz)
    return [iso(t)[5:16] for t in upcoming(trig, after, n)]


FRIDAY_NOON = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)  # a Friday


def test_zero_and_seven_are_sunday() -> None:
    for expression in ("0 8 * * 0", "0 8 * * 7", "0 8 * * sun"):
        assert local_times(expression, ZoneInfo("UTC"), FRIDAY_NOON, 2) == [
            "Sun 12-06 08:00+0000",
            "Sun 12-13 08:00+0000",
        ]


def test_one_to_five_is_monday_to_friday() -> None:
    days = [t[:3] for t in local_times("0 8 * * 1-5", ZoneInfo("UTC"), FRIDAY_NOON, 7)]
    assert days == ["Mon", "Tue", "Wed", "Thu", "Fri", "Mon", "Tue"]
    # APScheduler's from_crontab would read 1-5 as Tuesday-Saturday: that is the translation we avoid
    aps = ApsCron.from_crontab("0 8 * * 1-5", timezone=UTC)
    assert aps.get_next_fire_time(None, FRIDAY_NOON).strftime("%a") == "Sat"


def test_weekday_ranges_and_lists_wrap_through_sunday() -> None:
    days = [t[:3] for t in local_times("0 8 * * 5-7", ZoneInfo("UTC"), FRIDAY_NOON, 3)]
    assert days == ["Sat", "Sun", "Fri"]
    assert [t[:3] for t in local_times("0 8 * * 0,6", ZoneInfo("UTC"), FRIDAY_NOON, 2)] == ["Sat", "Sun"]


def test_day_of_month_or_weekday_when_both_are_restricted() -> None:
    # crontab(5): the 13th OR a Friday
    assert utc_times("0 8 13 * 5", ZoneInfo("UTC"), FRIDAY_NOON, 4) == [
        "12-11T08:00",
        "12-13T08:00",
        "12-18T08:00",
        "12-25T08:00",
    ]
    # a `*`-led day field is unrestricted: AND (odd days that are Fridays)
    assert utc_times("0 8 */2 * 5", ZoneInfo("UTC"), FRIDAY_NOON, 2) == ["12-11T08:00", "12-25T08:00"]


def test_fields_steps_names_and_macros() -> None:
    assert utc_times("*/20 9-10 * * *", ZoneInfo("UTC"), FRIDAY_NOON, 3) == [
        "12-05T09:00",
        "12-05T09:20",
        "12-05T09:40",
    ]
    assert utc_times("0 0 1 jan,jul *", ZoneInfo("UTC"), FRIDAY_NOON, 2) == ["01-01T00:00", "07-01T00:00"]
    assert utc_times("@daily", ZoneInfo("UTC"), FRIDAY_NOON, 1) == ["12-05T00:00"]
    assert utc_times("30/15 * * * *", ZoneInfo("UTC"), FRIDAY_NOON, 3) == [
        "12-04T12:30",
        "12-04T12:45",
        "12-04T13:30",
    ]


def test_agrees_with_apscheduler_away_from_daylight_saving() -> None:
    """Same instants as APScheduler's CronTrigger given weekday names (its 0 is Monday) in a quiet month."""
    ours = StandardCronTrigger(cron.parse("15 */6 * * 1-5"), BERLIN)
    aps = ApsCron(minute="15", hour="*/6", day_of_week="mon-fri", timezone=BERLIN)
    a: datetime | None = FRIDAY_NOON
    b: datetime | None = FRIDAY_NOON
    for _ in range(40):
        assert a is not None and b is not None
        a, b = (
            ours.get_next_fire_time(None, a + timedelta(seconds=1)),
            aps.get_next_fire_time(None, b + timedelta(seconds=1)),
        )
        assert a == b


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("61 * * * *", "minute 61 is not within 0-59"),
        ("* 24 * * *", "hour 24 is not within 0-23"),
        ("* * 0 * *", "day of month 0 is not within 1-31"),
        ("* * * 13 *", "month 13 is not within 1-12"),
        ("* * * * 8", "day of week 8 is not within 0-7"),
        ("* * * * mon-sun-x", "day of week"),
        ("5-1 * * * *", "Backwards range"),
        ("*/0 * * * *", "Invalid step"),
        ("* * * *", "5 fields"),
        ("@sometimes", "5 fields"),
    ],
)
def test_bad_expressions_name_the_field(expression: str, message: str) -> None:
    with pytest.raises(BadRequest) as err:
        CronTrigger(expression=expression).validate()
    assert "`$.trigger.expression`" in err.value.message and message in err.value.message


def test_never_matching_expression_has_no_next_time() -> None:
    assert utc_times("0 0 30 2 *", ZoneInfo("UTC"), FRIDAY_NOON, 1) == []


# -- daylight saving -------------------------------------------------------------------------------------
# Berlin: 2026-03-29 02:00 → 03:00 (02:xx does not exist); 2026-10-25 03:00 → 02:00 (02:xx happens twice).


def test_skipped_hour_fires_at_the_first_valid_time_after_the_gap() -> None:
    start = datetime(2026, 3, 27, 12, tzinfo=BERLIN)
    assert local_times("30 2 * * *", BERLIN, start, 3) == [
        "Sat 03-28 02:30+0100",
        "Sun 03-29 03:00+0200",  # 02:30 does not exist that night
        "Mon 03-30 02:30+0200",
    ]


def test_skipped_hour_fires_once_for_an_hourly_job_too() -> None:
    start = datetime(2026, 3, 29, 0, 10, tzinfo=BERLIN)
    assert local_times("30 * * * *", BERLIN, start, 4) == [
        "Sun 03-29 00:30+0100",
        "Sun 03-29 01:30+0100",
        "Sun 03-29 03:00+0200",  # the 02:30 firing
        "Sun 03-29 03:30+0200",
    ]
    # an expression that also matches the gap's end fires there once
    assert utc_times("*/30 * * * *", BERLIN, datetime(2026, 3, 29, 1, 10, tzinfo=BERLIN), 3) == [
        "03-29T00:30",
        "03-29T01:00",
        "03-29T01:30",
    ]


def test_repeated_hour_fires_once_when_the_hour_is_named() -> None:
    start = datetime(2026, 10, 24, 12, tzinfo=BERLIN)
    assert local_times("30 2 * * *", BERLIN, start, 3) == [
        "Sun 10-25 02:30+0200",  # the first 02:30 only
        "Mon 10-26 02:30+0100",
        "Tue 10-27 02:30+0100",
    ]
    assert local_times("0,30 1-3 * * *", BERLIN, datetime(2026, 10, 25, 1, 40, tzinfo=BERLIN), 4) == [
        "Sun 10-25 02:00+0200",
        "Sun 10-25 02:30+0200",
        "Sun 10-25 03:00+0100",
        "Sun 10-25 03:30+0100",
    ]


def test_repeated_hour_keeps_real_time_rhythm_for_wildcard_hours() -> None:
    start = datetime(2026, 10, 25, 1, 40, tzinfo=BERLIN)
    assert utc_times("*/30 * * * *", BERLIN, start, 5) == [
        "10-25T00:00",  # 02:00 CEST
        "10-25T00:30",
        "10-25T01:00",  # 02:00 CET
        "10-25T01:30",
        "10-25T02:00",  # 03:00 CET
    ]


def test_new_york_spring_forward() -> None:
    # 2026-03-08 02:00 → 03:00 in New York
    start = datetime(2026, 3, 7, 12, tzinfo=NEW_YORK)
    assert local_times("15 2 * * *", NEW_YORK, start, 2) == ["Sun 03-08 03:00-0400", "Mon 03-09 02:15-0400"]


def test_an_hourly_job_through_a_whole_year() -> None:
    trig = StandardCronTrigger(cron.parse("30 * * * *"), BERLIN)
    start = datetime(2026, 1, 1, tzinfo=BERLIN)
    times = [t for t in upcoming(trig, start, 9000) if t < datetime(2027, 1, 1, tzinfo=BERLIN)]
    # every real hour once: 365 x 24, the spring night's 02:30 moved to 03:00, the autumn night's repeated
    # 02:30 kept (the hour field is `*`)
    assert len(times) == 365 * 24 + 1
    gaps = [b - a for a, b in itertools.pairwise(times)]
    odd = [(iso(a), b - a) for a, b in itertools.pairwise(times) if b - a != timedelta(hours=1)]
    assert all(g > timedelta(0) for g in gaps)
    assert odd == [
        ("2026-03-29T00:30:00.000Z", timedelta(minutes=30)),
        ("2026-03-29T01:00:00.000Z", timedelta(minutes=30)),
    ]


# -- interval and date -----------------------------------------------------------------------------------


def test_interval_first_firing_is_seconds_after_creation_or_start() -> None:
    created = "2026-12-04T12:00:00.000Z"
    trig = build(IntervalTrigger(seconds=2), created)
    assert iso(first_due(trig, None, created)) == "2026-12-04T12:00:02.000Z"  # type: ignore[arg-type]
    trig = build(IntervalTrigger(seconds=60, start="2026-12-04T13:00:00+01:00"), created)
    assert iso(first_due(trig, None, created)) == "2026-12-04T12:01:00.000Z"  # type: ignore[arg-type]
    # after a recorded firing: the next point of the same grid, however the key was rounded
    trig = build(IntervalTrigger(seconds=1.5), created)
    due = first_due(trig, "2026-12-04T12:00:04.500Z", created)
    assert due is not None and iso(due) == "2026-12-04T12:00:06.000Z"


def test_interval_grid_is_the_same_in_every_process() -> None:
    created = "2026-12-04T12:00:00.250Z"
    a = upcoming(build(IntervalTrigger(seconds=1), created), datetime(2026, 12, 4, 12, 0, 5, tzinfo=UTC), 3)
    b = upcoming(build(IntervalTrigger(seconds=1), created), datetime(2026, 12, 4, 12, 0, 5, tzinfo=UTC), 3)
    assert (
        [iso(t) for t in a]
        == [iso(t) for t in b]
        == [
            "2026-12-04T12:00:05.250Z",
            "2026-12-04T12:00:06.250Z",
            "2026-12-04T12:00:07.250Z",
        ]
    )


def test_date_fires_once() -> None:
    created = "2026-12-04T12:00:00.000Z"
    trig = build(DateTrigger(at="2026-12-24T18:00:00+01:00"), created)
    assert iso(first_due(trig, None, created)) == "2026-12-24T17:00:00.000Z"  # type: ignore[arg-type]
    assert first_due(trig, "2026-12-24T17:00:00.000Z", created) is None


def test_cron_zone_defaults_to_the_leaders() -> None:
    trig = build(CronTrigger(expression="0 8 * * *"), "2026-12-04T12:00:00.000Z", "Europe/Berlin")
    due = first_due(trig, None, "2026-12-04T12:00:00.000Z")
    assert due is not None and iso(due) == "2026-12-05T07:00:00.000Z"

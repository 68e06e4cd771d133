"""Standard five-field cron expressions, parsed into the values each field allows.

`minute hour day-of-month month day-of-week`, as crontab(5) has it: `*`, `a`, `a-b`, `*/n`, `a-b/n`, `a/n`
(from a to the field's end) and comma lists; month names `jan`-`dec`, weekday names `sun`-`sat`; day of week
0-7 where both 0 and 7 are Sunday; macros `@yearly`/`@annually`, `@monthly`, `@weekly`, `@daily`/`@midnight`,
`@hourly`. When both day fields are restricted (neither starts with `*`) a day matches when EITHER does
(Vixie cron's rule). The leader turns a `Cron` into APScheduler triggers (`leader.schedules.cron`); the
parser lives here so the API and the UI's preview refuse the same expressions with the same sentence.
"""

from __future__ import annotations

from dataclasses import dataclass

from .errors import BadRequest

FIELDS = ("minute", "hour", "day of month", "month", "day of week")
_RANGES = ((0, 59), (0, 23), (1, 31), (1, 12), (0, 7))
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
_NAMES: tuple[dict[str, int], ...] = (
    {},
    {},
    {},
    {n: i + 1 for i, n in enumerate(_MONTHS)},
    {n: i for i, n in enumerate(_DAYS)},
)
MACROS = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}


@dataclass(frozen=True)
class Cron:
    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]  # of the month, 1-31
    months: frozenset[int]
    weekdays: frozenset[int]  # 0 = Sunday ... 6 = Saturday (7 folded into 0)
    days_restricted: bool  # the field did not start with `*`
    weekdays_restricted: bool
    hours_restricted: bool

    @property
    def day_or_weekday(self) -> bool:
        """Both day fields restricted: a day matches when either does (crontab(5))."""
        return self.days_restricted and self.weekdays_restricted


def _number(text: str, index: int, field_path: str) -> int:
    lo, hi = _RANGES[index]
    name = _NAMES[index].get(text.lower())
    if name is not None:
        return name
    if not text.isdigit():
        raise BadRequest(
            f"Invalid {FIELDS[index]} field at `{field_path}`: {text!r} is not a number"
            + (" or a name" if _NAMES[index] else "")
            + "."
        )
    value = int(text)
    if not lo <= value <= hi:
        raise BadRequest(f"Out of range at `{field_path}`: {FIELDS[index]} {value} is not within {lo}-{hi}.")
    return value


def _field(text: str, index: int, field_path: str) -> frozenset[int]:
    lo, hi = _RANGES[index]
    values: set[int] = set()
    for part in text.split(","):
        base, slash, step_text = part.partition("/")
        step = 1
        if slash:
            if not step_text.isdigit() or int(step_text) < 1:
                raise BadRequest(
                    f"Invalid step {step_text!r} in the {FIELDS[index]} field at `{field_path}`."
                )
            step = int(step_text)
        if base == "*":
            start, end = lo, hi
        elif "-" in base:
            a, _, b = base.partition("-")
            start, end = _number(a, index, field_path), _number(b, index, field_path)
            if start > end:
                raise BadRequest(f"Backwards range {base!r} in the {FIELDS[index]} field at `{field_path}`.")
        elif base:
            start = _number(base, index, field_path)
            end = hi if slash else start  # `a/n` runs from a to the field's end
        else:
            raise BadRequest(f"Empty part in the {FIELDS[index]} field at `{field_path}`.")
        values.update(range(start, end + 1, step))
    return frozenset(values)


def parse(expression: str, field_path: str = "$.trigger.expression") -> Cron:
    """Parse or raise BadRequest naming `field_path` and the cron field at fault."""
    text = MACROS.get(expression.strip().lower(), expression) if isinstance(expression, str) else ""
    parts = text.split()
    if len(parts) != 5:
        raise BadRequest(
            f"Invalid cron expression at `{field_path}`: 5 fields (minute hour day-of-month month "
            "day-of-week) or a macro such as @daily."
        )
    sets = [_field(p, i, field_path) for i, p in enumerate(parts)]
    weekdays = frozenset(d % 7 for d in sets[4])
    return Cron(
        minutes=sets[0],
        hours=sets[1],
        days=sets[2],
        months=sets[3],
        weekdays=weekdays,
        days_restricted=not parts[2].startswith("*"),
        weekdays_restricted=not parts[4].startswith("*"),
        hours_restricted=not parts[1].startswith("*"),
    )

"""Bodies and answers the second stage adds to the leader's `/api` (design.md, "Additions to existing
answers and requests" and "Live updates"). Fields added to existing Structs stay in `leader.py`."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from msgspec import Meta

from .base import Wire
from .errors import BadRequest
from .leader import OperationAnswer, UnitList, check_units
from .names import UnitName, check_unit
from .profiles import Diagnostic

NOTE_MAX = 5000
LABEL_MAX = 64
# Unicode spaces and line separators a label or note may not start or end with (beyond ASCII's)
_SPACE = r"\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
_EDGE = rf"[^\x00-\x20\x7f-\x9f{_SPACE}]"
# a label: empty (removes it), or 1-64 characters without control characters, not starting or ending
# with a space
LABEL_PATTERN = rf"^(?:{_EDGE}(?:[^\x00-\x1f\x7f-\x9f]{{0,{LABEL_MAX - 2}}}{_EDGE})?)?$"
# a note: line breaks and tabs allowed, other control characters not; at least one visible character
_NOTE_CHAR = r"[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]"
NOTE_PATTERN = rf"^{_NOTE_CHAR}*{_EDGE}{_NOTE_CHAR}*$"
_LABEL = re.compile(LABEL_PATTERN)
_NOTE = re.compile(NOTE_PATTERN)


class JobUnitsRequest(Wire):
    """POST /api/experiments/<exp>/jobs/<job>/pause · /resume: the units (default: every assigned one)."""

    units: UnitList | None = None

    def validate(self) -> JobUnitsRequest:
        check_units(self.units)
        return self


def check_label(value: str, field: str) -> str:
    """A unit's label in one experiment (LABEL_PATTERN); the empty label removes it."""
    if not isinstance(value, str) or not _LABEL.fullmatch(value):
        raise BadRequest(
            f"Invalid label at `{field}`: 1-{LABEL_MAX} characters without control characters, no leading "
            "or trailing spaces."
        )
    return value


class LabelPut(Wire):
    """PUT /api/experiments/<exp>/units/<unit>/label."""

    label: Annotated[str, Meta(pattern=LABEL_PATTERN, max_length=LABEL_MAX)]

    def validate(self) -> LabelPut:
        check_label(self.label, "$.label")
        return self


class ExperimentUnits(Wire):
    """GET/PUT /api/experiments/<exp>/units and PUT …/units/<unit>/label answer this."""

    units: list[str]
    labels: dict[str, str] = {}  # {unit: label} of the assigned units that have one


NoteLevel = Literal["debug", "info", "notice", "warning", "error", "critical"]


class NoteCreate(Wire):
    """POST /api/experiments/<exp>/logs: a manual note, stored as a log with `source: "user"`."""

    message: Annotated[str, Meta(pattern=NOTE_PATTERN, min_length=1, max_length=NOTE_MAX)]
    level: NoteLevel = "notice"
    unit: UnitName | None = None

    def validate(self) -> NoteCreate:
        if not self.message.strip():
            raise BadRequest("Empty note at `$.message`.")
        if len(self.message) > NOTE_MAX:
            raise BadRequest(f"Note too long at `$.message`: at most {NOTE_MAX} characters.")
        if not _NOTE.fullmatch(self.message):
            raise BadRequest("Invalid note at `$.message`: control characters other than line breaks.")
        if self.unit is not None:
            check_unit(self.unit, "$.unit")
        return self


class ProfileRunAnswer(OperationAnswer):
    """The 202 of a profile run: what the plan left out (a `pioreactors` unit not in the experiment). An
    addition with a default: clients that read only `operation` are unaffected."""

    warnings: list[Diagnostic] = []

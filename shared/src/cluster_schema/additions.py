"""Bodies and answers the second stage adds to the leader's `/api` (design.md, "Additions to existing
answers and requests" and "Live updates"). Fields added to existing Structs stay in `leader.py`."""

from __future__ import annotations

from typing import Literal

from .base import Wire
from .errors import BadRequest
from .leader import check_units
from .names import check_unit

NOTE_MAX = 5000
LABEL_MAX = 64


class JobUnitsRequest(Wire):
    """POST /api/experiments/<exp>/jobs/<job>/pause · /resume: the units (default: every assigned one)."""

    units: list[str] | None = None

    def validate(self) -> JobUnitsRequest:
        check_units(self.units)
        return self


def check_label(value: str, field: str) -> str:
    """A unit's label in one experiment: 1-64 printable characters, no leading or trailing spaces;
    the empty label removes it."""
    if value == "":
        return value
    if (
        not isinstance(value, str)
        or not value.strip()
        or value != value.strip()
        or len(value) > LABEL_MAX
        or not value.isprintable()
    ):
        raise BadRequest(
            f"Invalid label at `{field}`: 1-{LABEL_MAX} printable characters, no leading or trailing spaces."
        )
    return value


class LabelPut(Wire):
    """PUT /api/experiments/<exp>/units/<unit>/label."""

    label: str

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

    message: str
    level: NoteLevel = "notice"
    unit: str | None = None

    def validate(self) -> NoteCreate:
        if not self.message.strip():
            raise BadRequest("Empty note at `$.message`.")
        if len(self.message) > NOTE_MAX:
            raise BadRequest(f"Note too long at `$.message`: at most {NOTE_MAX} characters.")
        if any(not (c.isprintable() or c in "\r\n\t") for c in self.message):
            raise BadRequest("Invalid note at `$.message`: control characters other than line breaks.")
        if self.unit is not None:
            check_unit(self.unit, "$.unit")
        return self

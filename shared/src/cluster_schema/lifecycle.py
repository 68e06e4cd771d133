"""Bodies of the experiment lifecycle and manual actions on the leader's `/api` (issue 12): manual dosing
(add media, remove waste, add alternative media, by mL or by seconds) and LED intensities per channel.

Fields added to the existing experiment Structs (`copy_from`, `archived_at`) stay in `leader.py`.
"""

from __future__ import annotations

from typing import Annotated, Literal

from msgspec import UNSET, Meta, UnsetType

from .base import Wire
from .errors import BadRequest
from .leader import UnitList, check_units

# what one manual dose may ask at most, whatever the vial: an hour of pumping, or a litre
MAX_DOSE_SECONDS = 3600.0
MAX_DOSE_ML = 1000.0
LED_CHANNELS = ("A", "B", "C", "D")
# the pio jobs that dose (real pio's names; `--ml` or `--duration`)
DOSE_JOBS = ("add_media", "remove_waste", "add_alternative_media")

PositiveMl = Annotated[float, Meta(gt=0, le=MAX_DOSE_ML, description="Millilitres")]
PositiveSeconds = Annotated[float, Meta(gt=0, le=MAX_DOSE_SECONDS, description="Seconds of pumping")]
Percent = Annotated[float, Meta(ge=0, le=100, description="Percent of full intensity")]
LedChannel = Literal["A", "B", "C", "D"]


class DoseRequest(Wire):
    """POST /api/experiments/<exp>/actions/<add_media|remove_waste|add_alternative_media>: exactly one of
    `ml` or `seconds`, on the given units (default: every assigned active unit)."""

    units: UnitList | None = None
    ml: PositiveMl | UnsetType = UNSET
    seconds: PositiveSeconds | UnsetType = UNSET

    def validate(self) -> DoseRequest:
        check_units(self.units)
        if (self.ml is UNSET) == (self.seconds is UNSET):
            raise BadRequest("Give exactly one of `$.ml` or `$.seconds`.", code="invalid_field")
        return self

    @property
    def amount(self) -> dict[str, float]:
        """pio's option: `--ml` or `--duration`."""
        if isinstance(self.ml, UnsetType):
            return {"duration": 0.0 if isinstance(self.seconds, UnsetType) else self.seconds}
        return {"ml": self.ml}


# the document says what validate() checks: exactly one of `ml` or `seconds`
DoseBody = Annotated[
    DoseRequest, Meta(extra_json_schema={"oneOf": [{"required": ["ml"]}, {"required": ["seconds"]}]})
]


class LedRequest(Wire):
    """POST /api/experiments/<exp>/actions/led_intensity: `{"intensities": {"A": 50, ...}}` (0-100 %)."""

    intensities: Annotated[
        dict[LedChannel, Percent],
        Meta(min_length=1, extra_json_schema={"propertyNames": {"enum": list(LED_CHANNELS)}}),
    ]
    units: UnitList | None = None

    def validate(self) -> LedRequest:
        check_units(self.units)
        return self

"""How full a unit's vial may get, for manual dosing: refused before anything is sent when a dose would
fill a vial above its model's safe fill volume.

- the model: the unit's own (`model` on /api/units), else `[pioreactor] model` of the unit's config as the
  leader keeps it (`config.ini` overlaid with `config_<unit>.ini`), else Pioreactor's default 20 mL model;
- its safe fill volume: `[bioreactor] max_fill_volume_ml` of that config when set (a lab's own vessel),
  else the model's `reactor_max_fill_volume_ml` as Pioreactor defines its built-in models;
- the volume now: the unit's last published `current_volume_ml` in this experiment (bioreactor or dosing
  automation), else the config's `[bioreactor] initial_volume_ml`, else Pioreactor's default initial volume
  (14 mL; said as "assumed": counting an unknown vial as empty would let it overflow);
- a dose by seconds counts as Pioreactor's uncalibrated pump rate (1 mL/s) unless the config sets
  `[bioreactor] pump_ml_per_second`: the leader does not read each unit's pump calibration.
"""

from __future__ import annotations

import configparser
import json
import sqlite3
from dataclasses import dataclass

from cluster_schema.errors import BadRequest

# reactor_max_fill_volume_ml of Pioreactor's built-in models (pioreactor/models)
MAX_FILL_ML = {"pioreactor_20ml": 18.0, "pioreactor_40ml": 38.0}
DEFAULT_MODEL = "pioreactor_20ml"
DEFAULT_ML_PER_SECOND = 1.0
DEFAULT_VOLUME_ML = 14.0  # Pioreactor's default `[bioreactor] initial_volume_ml`
FILLING = ("add_media", "add_alternative_media")  # remove_waste only ever lowers the level
_VOLUME_TOPICS = (
    ("bioreactor", "current_volume_ml"),
    ("dosing_automation", "current_volume_ml"),
    ("dosing_automation", "liquid_volume"),
)


@dataclass(frozen=True)
class Vial:
    unit: str
    model: str
    max_fill_ml: float
    volume_ml: float
    ml_per_second: float
    volume_known: bool = True  # False: neither published nor in the config (DEFAULT_VOLUME_ML assumed)


def unit_config(db: sqlite3.Connection, unit: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    for name in ("config.ini", f"config_{unit}.ini"):
        row = db.execute("SELECT content FROM config_files WHERE name = ?", (name,)).fetchone()
        if row is not None:
            try:
                parser.read_string(row[0], source=name)
            except configparser.Error:
                continue  # the editor refuses invalid files; an old one must not block dosing checks
    return parser


def _number(cfg: configparser.ConfigParser, section: str, key: str) -> float | None:
    try:
        value = float(cfg.get(section, key))
    except (configparser.Error, ValueError):
        return None
    return value if value >= 0 else None


def _published_volume(db: sqlite3.Connection, unit: str, experiment: str) -> float | None:
    for job, setting in _VOLUME_TOPICS:
        row = db.execute(
            "SELECT value FROM topic_values WHERE unit = ? AND experiment = ? AND job = ? AND setting = ?",
            (unit, experiment, job, setting),
        ).fetchone()
        if row is None:
            continue
        try:
            value = json.loads(row[0])
        except ValueError:
            continue
        if isinstance(value, dict):
            value = value.get("value", value.get(setting))
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
    return None


def vial(db: sqlite3.Connection, unit: str, experiment: str) -> Vial:
    cfg = unit_config(db, unit)
    row = db.execute("SELECT model FROM units WHERE name = ?", (unit,)).fetchone()
    model = (row and row[0]) or cfg.get("pioreactor", "model", fallback="") or DEFAULT_MODEL
    max_fill = _number(cfg, "bioreactor", "max_fill_volume_ml") or MAX_FILL_ML.get(
        model, MAX_FILL_ML[DEFAULT_MODEL]
    )
    volume = _published_volume(db, unit, experiment)
    if volume is None:
        volume = _number(cfg, "bioreactor", "initial_volume_ml")
    rate = _number(cfg, "bioreactor", "pump_ml_per_second") or DEFAULT_ML_PER_SECOND
    if volume is None:
        return Vial(unit, model, max_fill, DEFAULT_VOLUME_ML, rate, volume_known=False)
    return Vial(unit, model, max_fill, volume, rate)


def check_dose(
    db: sqlite3.Connection,
    experiment: str,
    job: str,
    units: list[str],
    ml: float | None,
    seconds: float | None,
) -> None:
    """400 naming `$.ml` or `$.seconds` when the dose would take any unit's vial above its safe fill."""
    if job not in FILLING:
        return
    field = "$.ml" if ml is not None else "$.seconds"
    over = []
    for unit in units:
        v = vial(db, unit, experiment)
        added = ml if ml is not None else (seconds or 0.0) * v.ml_per_second
        if v.volume_ml + added > v.max_fill_ml + 1e-9:
            holds = f"{v.volume_ml:g} mL" + ("" if v.volume_known else " (assumed)")
            over.append(
                f"{unit} holds {holds} and would reach {v.volume_ml + added:g} mL, above its "
                f"{v.model} safe fill volume of {v.max_fill_ml:g} mL"
            )
    if over:
        raise BadRequest(
            f"Refused at `{field}`: " + "; ".join(over) + ". Nothing was sent to any unit.",
            code="over_safe_fill",
        )

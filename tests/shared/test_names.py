"""Name rules: what both services accept and refuse, with the field named."""

from __future__ import annotations

import pytest

from cluster_schema import names
from cluster_schema.errors import BadRequest

INJECTIONS = [
    "--x",
    ";rm -rf /",
    "$(reboot)",
    "`id`",
    "../etc",
    "a/b",
    "a b",
    "x\x00",
    "é",
    "A" * 300,
    "",
    "-1x",
]


@pytest.mark.parametrize("value", ["unit1", "pio-01", "worker3"])
def test_units_ok(value: str) -> None:
    assert names.check_unit(value) == value


@pytest.mark.parametrize("value", [*INJECTIONS, "-unit"])
def test_units_refused(value: str) -> None:
    with pytest.raises(BadRequest, match="`unit`"):
        names.check_unit(value)


@pytest.mark.parametrize("check", [names.check_job, names.check_setting, names.check_option_key])
@pytest.mark.parametrize("value", INJECTIONS)
def test_identifiers_refused(check, value: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(BadRequest, match="at `f`"):
        check(value, "f")


def test_option_keys_allow_dashes() -> None:
    assert names.check_option_key("target-rpm") == "target-rpm"
    assert names.check_option_key("target_rpm") == "target_rpm"


def test_option_keys_allow_one_capital_letter_as_led_channels() -> None:
    assert names.check_option_key("A") == "A"  # pio run led_intensity --A 50
    for bad in ("AB", "Ab", "aB"):
        with pytest.raises(BadRequest, match="at `f`"):
            names.check_option_key(bad, "f")


@pytest.mark.parametrize("value", ["Exp 1", "growth curve (2026)", "über"])
def test_experiments_ok(value: str) -> None:
    assert names.check_experiment(value) == value


@pytest.mark.parametrize("value", ["", " lead", "a/b", "a+b", "a#", "$SYS", "x\x00", "a\nb", "x" * 101])
def test_experiments_refused(value: str) -> None:
    with pytest.raises(BadRequest, match="`experiment`"):
        names.check_experiment(value)


@pytest.mark.parametrize("value", ["../config.ini", ".hidden", "a/b", "a\x00", ""])
def test_file_names_refused(value: str) -> None:
    with pytest.raises(BadRequest, match="`name`"):
        names.check_file_name(value)


@pytest.mark.parametrize("value", [500, 1.5, True, None, "thermostat", "-3.5", "1e3"])
def test_values_ok(value: object) -> None:
    assert names.check_value(value, "v") == value


@pytest.mark.parametrize("value", ["--flag", "-x", "a\x00b", "a\nb", "y" * 1001, [1], {"a": 1}])
def test_values_refused(value: object) -> None:
    with pytest.raises(BadRequest, match="`v`"):
        names.check_value(value, "v")


AGREEMENT = [
    *INJECTIONS, "unit1", "pio-01", "Exp 1", "über", "stirring", "target-rpm", "config.ini", "a..b", "a.b",
    " lead", "trail ", "\xa0nbsp", "x\x85", "$SYS", "a+b", "-3.5", "1e3", "-", "a\tb", "x" * 100, "x" * 101,
    "y" * 1000, "y" * 1001, "a;b", "a|b", "x$y", "..", ".", "UPPER_1", "_", "a\\b",
]  # fmt: skip


@pytest.mark.parametrize(
    ("check", "annotated"),
    [
        (names.check_unit, names.UnitName),
        (names.check_experiment, names.ExperimentName),
        (names.check_job, names.JobName),
        (names.check_setting, names.SettingName),
        (names.check_option_key, names.OptionName),
        (names.check_file_name, names.FileName),
        (names.check_env_name, names.EnvName),
        (lambda v, f="v": names.check_value(v, f), names.ValueStr),
        (lambda v, f="v": names.check_arg(v, f), names.ArgStr),
    ],
)
def test_the_check_and_the_schema_type_agree(check, annotated) -> None:  # type: ignore[no-untyped-def]
    """What a `check_*` refuses, the msgspec type refuses, and so does a JSON Schema validator reading the
    document's schema (ECMA-262 regular expressions): nothing else."""
    import jsonschema_rs
    import msgspec

    by_schema = jsonschema_rs.validator_for(msgspec.json.schema(annotated)).is_valid

    for value in AGREEMENT:
        try:
            check(value)
            by_check = True
        except BadRequest:
            by_check = False
        try:
            msgspec.convert(value, annotated)
            by_type = True
        except msgspec.ValidationError:
            by_type = False
        assert by_check == by_type == by_schema(value), (value, by_check, by_type)

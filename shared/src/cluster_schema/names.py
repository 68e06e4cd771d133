"""Name rules shared by the leader and the agent.

Every name that can end up in an MQTT topic, a file path or a `pio` argument list is checked here, in one
place, so both services refuse the same things with the same message.

Each rule is one regular expression written so that Python's `re` and JSON Schema (ECMA-262) read it the
same way (explicit classes, `\\xHH`/`\\uHHHH` escapes, no lookaround): the `check_*` functions match it with
`fullmatch`, and the `Annotated` types below carry it as `msgspec.Meta(pattern=...)`, so the Structs refuse
what the checks refuse and the OpenAPI documents say so.
"""

from __future__ import annotations

import re
from typing import Annotated

from msgspec import Meta

from .errors import BadRequest

# Unit names are hostnames (RFC 1123 label); experiments may be human-readable but never contain MQTT
# wildcards, path separators or control characters, nor start or end with a space (Python's whitespace:
# what `str.strip()` removes); job/setting/option names are identifiers the way Pioreactor spells them.
UNIT_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9-]{0,62}$"
IDENT_PATTERN = r"^[a-z_][a-z0-9_]{0,63}$"
# or one capital letter: real pio's LED channel flags (`pio run led_intensity --A 50`)
OPTION_PATTERN = r"^(?:[a-z_][a-z0-9_-]{0,63}|[A-Z])$"
# letters, digits, '_', '-', '.'; not starting with '.' or '-'; never two dots in a row ('..')
FILE_PATTERN = r"^[A-Za-z0-9_](?:\.?[A-Za-z0-9_-])*\.?$"
FILE_MAX = 100
_SPACE = r"\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
_EXP_INNER = r"[^/+#$\x00-\x1f\x7f]"
_EXP_EDGE = rf"[^/+#$\x00-\x20\x7f{_SPACE}]"
EXPERIMENT_PATTERN = rf"^{_EXP_EDGE}(?:{_EXP_INNER}*{_EXP_EDGE})?$"
EXPERIMENT_MAX = 100
# A string value that travels as one argv element or MQTT payload: no NUL or line break, and never taken
# for a flag by `pio`'s argument parser (a leading '-' only for a number).
VALUE_PATTERN = r"^(?:[^\x00\n\r-][^\x00\n\r]*|-(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)?$"
VALUE_MAX = 1000
ENV_PATTERN = r"^[A-Z_][A-Z0-9_]{0,63}$"
# What the agent puts in `pio`'s argument list: a value as above that also has no shell metacharacter
# (; & | $ ` < > \\) and no '..' (a dot is never followed by another), since `pio` or a plugin might hand
# it to a shell or take it for a path (defence in depth: no shell ever sees it).
_ARG = r"[^\x00\n\r;&|$`<>\\.]"
_ARG0 = r"[^\x00\n\r;&|$`<>\\.-]"
_NUMBER = r"-(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?"
ARG_PATTERN = rf"^(?:(?:{_ARG0}|\.{_ARG})(?:{_ARG}|\.{_ARG})*\.?|\.|{_NUMBER})?$"
# config.ini sections and keys of a `--config-override`
CONFIG_NAME_PATTERN = r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$"
SHA256_PATTERN = r"^[0-9a-f]{64}$"

ALL_UNITS = "$all"
# The one `$` name a settings change may carry: a job's state, as Pioreactor's `…/$state/set` takes it.
STATE_SETTING = "$state"
SETTABLE_STATES = ("sleeping", "ready", "disconnected")

UnitName = Annotated[str, Meta(pattern=UNIT_PATTERN, max_length=63, description="A unit (hostname) name")]
ExperimentName = Annotated[
    str, Meta(pattern=EXPERIMENT_PATTERN, min_length=1, max_length=EXPERIMENT_MAX, description="Experiment")
]
JobName = Annotated[str, Meta(pattern=IDENT_PATTERN, max_length=64, description="A job name")]
SettingName = Annotated[str, Meta(pattern=IDENT_PATTERN, max_length=64, description="A setting name")]
OptionName = Annotated[str, Meta(pattern=OPTION_PATTERN, max_length=64, description="An option name")]
FileName = Annotated[str, Meta(pattern=FILE_PATTERN, min_length=1, max_length=FILE_MAX)]
EnvName = Annotated[str, Meta(pattern=ENV_PATTERN, max_length=64)]


ValueStr = Annotated[str, Meta(pattern=VALUE_PATTERN, max_length=VALUE_MAX)]
ArgStr = Annotated[str, Meta(pattern=ARG_PATTERN, max_length=VALUE_MAX)]
# A value of an option: a bare flag (null), a number, a boolean or an argv-safe string.
ArgValue = ArgStr | int | float | bool | None
ConfigName = Annotated[str, Meta(pattern=CONFIG_NAME_PATTERN, max_length=64)]
Sha256 = Annotated[str, Meta(pattern=SHA256_PATTERN)]
# An API token's name: shown in lists; not blank, no line breaks.
# A name people give (a token, a schedule): not blank, no line breaks, not starting with a space or '-'.
DISPLAY_NAME_PATTERN = rf"^[^-\x00-\x20\x7f{_SPACE}][^\x00\n\r]*$"
TokenName = Annotated[str, Meta(pattern=DISPLAY_NAME_PATTERN, max_length=100)]
Address = Annotated[str, Meta(pattern=VALUE_PATTERN, max_length=253)]
Description = Annotated[str, Meta(pattern=VALUE_PATTERN, max_length=5000)]
# A value a setting or an option may take on the wire (strings as `check_value` accepts them).
Value = ValueStr | int | float | bool | None

_UNIT = re.compile(UNIT_PATTERN)
_IDENT = re.compile(IDENT_PATTERN)
_OPTION = re.compile(OPTION_PATTERN)
_FILE = re.compile(FILE_PATTERN)
_EXPERIMENT = re.compile(EXPERIMENT_PATTERN)
_VALUE = re.compile(VALUE_PATTERN)
_ENV = re.compile(ENV_PATTERN)
_ARG_RE = re.compile(ARG_PATTERN)
_CONFIG_NAME = re.compile(CONFIG_NAME_PATTERN)


def check_unit(value: str, field: str = "unit") -> str:
    if not isinstance(value, str) or not _UNIT.fullmatch(value):
        raise BadRequest(
            f"Invalid unit name at `{field}`: use 1-63 letters, digits or '-', not starting with '-'."
        )
    return value


def check_experiment(value: str, field: str = "experiment") -> str:
    if not isinstance(value, str) or len(value) > EXPERIMENT_MAX or not _EXPERIMENT.fullmatch(value):
        raise BadRequest(
            f"Invalid experiment name at `{field}`: 1-{EXPERIMENT_MAX} characters, no leading or trailing "
            "spaces, no '/', '+', '#', '$' or control characters."
        )
    return value


def _ident(value: str, field: str, what: str, pattern: re.Pattern[str] = _IDENT) -> str:
    if not isinstance(value, str) or not pattern.fullmatch(value):
        raise BadRequest(
            f"Invalid {what} at `{field}`: use lowercase letters, digits and '_' (max 64), "
            "starting with a letter or '_'."
        )
    return value


def check_job(value: str, field: str = "job_name") -> str:
    return _ident(value, field, "job name")


def check_setting(value: str, field: str = "setting") -> str:
    return _ident(value, field, "setting name")


def check_state_value(value: object, field: str) -> str:
    if value not in SETTABLE_STATES:
        raise BadRequest(f"Invalid state at `{field}`: one of {', '.join(SETTABLE_STATES)}.")
    return str(value)


def check_option_key(value: str, field: str = "options") -> str:
    # Pioreactor's click options use '-' or '_' interchangeably; both are accepted, nothing else.
    return _ident(value, field, "option name", _OPTION)


def check_env_name(value: str, field: str = "env") -> str:
    if not isinstance(value, str) or not _ENV.fullmatch(value):
        raise BadRequest(
            f"Invalid environment variable name at `{field}`: upper-case letters, digits and '_' (max 64)."
        )
    return value


def check_arg(value: object, field: str) -> str:
    """A scalar as one argv element for `pio` (see ARG_PATTERN)."""
    check_value(value, field)
    if isinstance(value, bool):
        return str(value)
    text = "" if value is None else str(value)
    if not _ARG_RE.fullmatch(text):
        raise BadRequest(
            f"Invalid value at `{field}`: shell metacharacters (; & | $ ` < > \\) and '..' are not allowed."
        )
    return text


def check_file_name(value: str, field: str = "name") -> str:
    if not isinstance(value, str) or len(value) > FILE_MAX or not _FILE.fullmatch(value):
        raise BadRequest(
            f"Invalid file name at `{field}`: letters, digits, '_', '-', '.' only (max 100), no '..'."
        )
    return value


def check_value(value: object, field: str, max_len: int = VALUE_MAX) -> object:
    """A scalar that will travel as one argv element or one MQTT payload."""
    if value is None or isinstance(value, (bool, int, float)):
        return value
    if isinstance(value, str):
        if len(value) > max_len:
            raise BadRequest(f"Value too long at `{field}`: at most {max_len} characters.")
        if not _VALUE.fullmatch(value):
            raise BadRequest(
                f"Invalid value at `{field}`: no NUL or line breaks, no leading '-' unless it is a number."
            )
        return value
    raise BadRequest(f"Invalid value at `{field}`: expected a string, number, boolean or null.")


# How a refused pattern reads in a 400's message (msgspec names the regex; people want the rule).
PATTERN_WORDS = {
    UNIT_PATTERN: "a unit name (1-63 letters, digits or '-', not starting with '-')",
    IDENT_PATTERN: "a name of lowercase letters, digits and '_' (max 64, not starting with a digit)",
    OPTION_PATTERN: "an option name of lowercase letters, digits, '_' and '-' (max 64), or one capital "
    "letter",
    FILE_PATTERN: "a file name of letters, digits, '_', '-', '.' (no '..', not starting with '.' or '-')",
    EXPERIMENT_PATTERN: "an experiment name without leading or trailing spaces, '/', '+', '#', '$' or "
    "control characters",
    VALUE_PATTERN: "a value without NUL or line breaks, not starting with '-' unless a number",
    ARG_PATTERN: "a value without NUL, line breaks, shell metacharacters (; & | $ ` < > backslash) or "
    "'..', not starting with '-' unless a number",
    ENV_PATTERN: "an environment variable name of upper-case letters, digits and '_'",
    CONFIG_NAME_PATTERN: "a config section or key of letters, digits, '_', '.', '-' (max 64)",
    SHA256_PATTERN: "a sha256 in lowercase hex",
}


def check_config_override(override: tuple[str, str, str], field: str) -> tuple[str, str, str]:
    """`[section, key, value]` of `pio run --config-override`: the leader and the agent refuse alike."""
    section, key, value = override
    for j, name in enumerate((section, key)):
        if not isinstance(name, str) or not _CONFIG_NAME.fullmatch(name):
            raise BadRequest(
                f"Invalid config override at `{field}[{j}]`: letters, digits, '_', '.', '-' (max 64), "
                "not starting with '.' or '-'."
            )
    check_arg(value, f"{field}[2]")
    return section, key, value

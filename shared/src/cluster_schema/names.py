"""Name rules shared by the leader and the agent.

Every name that can end up in an MQTT topic, a file path or a `pio` argument list is checked here, in one
place, so both services refuse the same things with the same message.
"""

from __future__ import annotations

import re

from .errors import BadRequest

# Unit names are hostnames (RFC 1123 label); experiments may be human-readable but never contain MQTT
# wildcards, path separators or control characters; job/setting/option names are Python identifiers the
# way Pioreactor spells them.
_UNIT = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,62})$")
_IDENT = re.compile(r"^[a-z_][a-z0-9_]{0,63}$")
_OPTION = re.compile(r"^[a-z_][a-z0-9_-]{0,63}$")
_FILE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,99}$")
_EXPERIMENT_FORBIDDEN = re.compile(r"[/+#$\x00-\x1f\x7f]")
# config.ini section and key names (`stirring.config`, `PWM`, `Kp`, `1`)
_CONFIG_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$")
_SHELL = re.compile(r"[;&|$`<>\\]")
_PARENT = re.compile(r"(^|/)\.\.(/|$)")
EXPERIMENT_MAX = 100

ALL_UNITS = "$all"
# The one `$` name a settings change may carry: a job's state, as Pioreactor's `…/$state/set` takes it.
STATE_SETTING = "$state"
SETTABLE_STATES = ("sleeping", "ready", "disconnected")


def check_unit(value: str, field: str = "unit") -> str:
    if not isinstance(value, str) or not _UNIT.match(value):
        raise BadRequest(
            f"Invalid unit name at `{field}`: use 1-63 letters, digits or '-', not starting with '-'."
        )
    return value


def check_experiment(value: str, field: str = "experiment") -> str:
    if (
        not isinstance(value, str)
        or not value.strip()
        or value != value.strip()
        or len(value) > EXPERIMENT_MAX
        or _EXPERIMENT_FORBIDDEN.search(value)
    ):
        raise BadRequest(
            f"Invalid experiment name at `{field}`: 1-{EXPERIMENT_MAX} characters, no leading or trailing "
            "spaces, no '/', '+', '#', '$' or control characters."
        )
    return value


def _ident(value: str, field: str, what: str, pattern: re.Pattern[str] = _IDENT) -> str:
    if not isinstance(value, str) or not pattern.match(value):
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


def check_file_name(value: str, field: str = "name") -> str:
    if not isinstance(value, str) or not _FILE.match(value) or ".." in value:
        raise BadRequest(
            f"Invalid file name at `{field}`: letters, digits, '_', '-', '.' only (max 100), no '..'."
        )
    return value


def check_value(value: object, field: str, max_len: int = 1000) -> object:
    """A scalar that will travel as one argv element or one MQTT payload."""
    if value is None or isinstance(value, (bool, int, float)):
        return value
    if isinstance(value, str):
        if len(value) > max_len:
            raise BadRequest(f"Value too long at `{field}`: at most {max_len} characters.")
        if "\x00" in value or "\n" in value or "\r" in value:
            raise BadRequest(f"Invalid value at `{field}`: NUL and line breaks are not allowed.")
        if value.startswith("-"):
            # a value may never be taken for a flag by `pio`'s argument parser
            try:
                float(value)
            except ValueError:
                raise BadRequest(
                    f"Invalid value at `{field}`: a value may not start with '-' unless it is a number."
                ) from None
        return value
    raise BadRequest(f"Invalid value at `{field}`: expected a string, number, boolean or null.")


def check_arg(value: object, field: str) -> str:
    """One scalar that becomes one `pio` argv element, as text.

    No shell ever sees it, but `pio` (or a plugin) might hand it to one, or take it for a path: shell
    metacharacters and `..` path segments are refused too (defence in depth, on top of check_value).
    """
    check_value(value, field)
    if isinstance(value, bool):
        return str(value)
    text = "" if value is None else str(value)
    if _SHELL.search(text) or _PARENT.search(text):
        raise BadRequest(
            f"Invalid value at `{field}`: shell metacharacters (; & | $ ` < > \\) and '..' path segments "
            "are not allowed."
        )
    return text


def check_config_override(override: tuple[str, str, str], field: str) -> tuple[str, str, str]:
    """`[section, key, value]` of `pio run --config-override`: the leader and the agent refuse alike."""
    section, key, value = override
    for j, name in enumerate((section, key)):
        if not isinstance(name, str) or not _CONFIG_NAME.match(name):
            raise BadRequest(
                f"Invalid config override at `{field}[{j}]`: letters, digits, '_', '.', '-' (max 64), "
                "not starting with '.' or '-'."
            )
    check_arg(value, f"{field}[2]")
    return section, key, value

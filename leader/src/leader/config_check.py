"""Checks of Pioreactor's INI config files before the leader keeps them, and the diffs the editor shows.

Pioreactor reads these with `configparser`, which stops at the first problem; an editor wants every problem
on its line, so a line scanner following configparser's rules (full-line `#`/`;` comments, `=`/`:` delimiters,
keys case-insensitive, indented lines continuing a value, strict duplicates) lists them all, and configparser
itself has the last word. No secret belongs in these files: they go to every unit and every viewer reads them
(the services' secrets live in their own TOML files), so a key named like one, with a value, is refused.
"""

from __future__ import annotations

import configparser
import difflib
import re

from cluster_schema.config_files import ConfigDiagnostic, InvalidConfig
from cluster_schema.errors import BadRequest

_SECTION = re.compile(r"\[(?P<header>.+)\]")  # configparser's SECTCRE
_OPTION = re.compile(r"(?P<option>.*?)\s*(?P<vi>[=:])\s*(?P<value>.*)$")  # its OPTCRE
SECRET_KEY = re.compile(
    r"(?:^|[_.\-\s])(password|passwd|pwd|passphrase|secret|secrets|token|tokens|apikey|api_key|api-key"
    r"|private_key|credential|credentials)(?:$|[_.\-\s])",
    re.IGNORECASE,
)
WHY_REFUSED = "secrets do not belong in config files (they go to every unit and every viewer can read them)"


class ConfigInvalid(BadRequest):
    """400 `invalid_config`: the message names the first problem, `diagnostics` lists them all."""

    code = "invalid_config"

    def __init__(self, diagnostics: list[ConfigDiagnostic]) -> None:
        first = diagnostics[0]
        where = f"line {first.line}: " if first.line else ""
        more = f" (and {len(diagnostics) - 1} more)" if len(diagnostics) > 1 else ""
        super().__init__(f"Invalid INI at `$.content`: {where}{first.message}{more}")
        self.diagnostics = diagnostics

    def body(self) -> InvalidConfig:  # type: ignore[override]
        return InvalidConfig(error=self.code, message=self.message, diagnostics=self.diagnostics)


def _diag(line: int | None, code: str, message: str) -> ConfigDiagnostic:
    return ConfigDiagnostic(line=line, code=code, message=message)


def _scan(content: str) -> list[ConfigDiagnostic]:
    out: list[ConfigDiagnostic] = []
    sections: dict[str, int] = {}
    keys: dict[str, int] = {}  # of the current section: lowercased key -> its line
    section: str | None = None
    key_indent: int | None = None  # indent of the current key's line: deeper lines continue its value
    for n, raw in enumerate(content.splitlines(), 1):
        text = raw.strip()
        if not text or text[0] in "#;":
            continue
        indent = len(raw) - len(raw.lstrip())
        if section is not None and key_indent is not None and indent > key_indent:
            continue  # a continuation line of a multi-line value
        header = _SECTION.match(text)
        if header:
            section, key_indent = header.group("header"), None
            if section in sections:
                out.append(
                    _diag(
                        n,
                        "duplicate_section",
                        f"section [{section}] already starts on line {sections[section]}",
                    )
                )
                keys = {}
            else:
                sections[section], keys = n, {}
            continue
        if section is None:
            out.append(_diag(n, "missing_section", f"`{text[:60]}` comes before any [section] header"))
            continue
        option = _OPTION.match(text)
        if option is None or not option.group("option"):
            out.append(
                _diag(n, "bad_line", f"`{text[:60]}` is neither a [section], a key = value, nor a comment")
            )
            key_indent = None
            continue
        key, value = option.group("option").strip().lower(), option.group("value").strip()
        key_indent = indent
        if key in keys:
            out.append(
                _diag(n, "duplicate_key", f"key `{key}` is already set in [{section}] on line {keys[key]}")
            )
            continue
        keys[key] = n
        if value and SECRET_KEY.search(key):
            out.append(_diag(n, "secret", f"[{section}] `{key}` looks like a secret: {WHY_REFUSED}"))
    return out


def diagnose(content: str, name: str = "config.ini") -> list[ConfigDiagnostic]:
    """Every problem of `content`, in line order; none when Pioreactor reads it and it holds no secret."""
    found = _scan(content)
    if found:
        return found
    try:  # configparser has the last word on what the scanner above let through
        configparser.ConfigParser(interpolation=None, strict=True).read_string(content, source=name)
    except configparser.Error as exc:
        line = getattr(exc, "lineno", None)
        return [_diag(line, "parse", str(exc).splitlines()[0])]
    return []


def check(content: str, name: str = "config.ini") -> None:
    problems = diagnose(content, name)
    if problems:
        raise ConfigInvalid(problems)


def unified_diff(old: str, new: str, name: str, old_label: str = "saved", new_label: str = "edited") -> str:
    """A unified diff as text (what `diff -u` prints); empty when the texts are equal."""
    lines = difflib.unified_diff(
        old.splitlines(), new.splitlines(), f"{name} ({old_label})", f"{name} ({new_label})", lineterm=""
    )
    return "\n".join(lines)

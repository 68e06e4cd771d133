"""Bodies and answers of the leader's config editor (`/api/config/...`): the files and the units that do not
have their current version yet, diagnostics with line numbers, the diff a save would make, and the history
of saved versions with who saved each."""

from __future__ import annotations

from typing import Literal

from .base import Wire
from .names import Sha256


class ConfigFilePut(Wire):
    content: str
    sha256: Sha256 | None = None  # when given, saved only if the current file has this hash (else 409)


class ConfigFile(Wire):
    name: str
    content: str
    sha256: str
    updated_at: str | None = None
    # the units a sync writes this file to (config.ini: every active unit; config_<unit>.ini: its unit)
    # whose last successful sync wrote another version, or none: "saved, not synced" there; [] = synced
    unsynced_units: list[str] = []


class ConfigFiles(Wire):
    files: list[ConfigFile]  # `content` left empty in this list


class ConfigDiagnostic(Wire):
    line: int | None  # 1-based line of the content; None when the problem is the whole file
    code: str  # missing_section, duplicate_section, duplicate_key, bad_line, bad_section, secret, parse
    message: str
    severity: Literal["error", "warning"] = "error"


class InvalidConfig(Wire):
    """The 400 of a save or revert: every problem found, each on its line; nothing saved."""

    error: str
    message: str
    diagnostics: list[ConfigDiagnostic]


class ConfigCheck(Wire):
    content: str


class ConfigCheckAnswer(Wire):
    """What a save of `content` would do: its problems and the unified diff against the saved version."""

    name: str
    diagnostics: list[ConfigDiagnostic]
    diff: str  # unified diff, empty when nothing changes
    changed: bool
    current_sha256: str | None  # of the saved version (None: not saved yet); send it back with the save


class ConfigVersion(Wire):
    id: int
    name: str
    content: str
    sha256: str
    saved_at: str
    saved_by: str | None = None  # "user:<name>", "token:<id>", … (None for rows older than the field)
    reverted_from: int | None = None  # the version this one restored, when it is a revert
    diff: str = ""  # unified diff against the version before it (the first: against an empty file)
    updated_at: str | None = None  # = saved_at (the shape of a config file answer)


class ConfigHistory(Wire):
    history: list[ConfigVersion]  # newest first


class ConfigRevert(Wire):
    sha256: Sha256 | None = None  # when given, reverted only if the current file has this hash (else 409)

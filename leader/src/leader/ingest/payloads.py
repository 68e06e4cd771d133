"""What parse.py and status.py share: the error for a bad payload and Pioreactor's timestamps."""

from __future__ import annotations

from datetime import datetime


class Malformed(ValueError):
    """The topic is one we ingest but the payload is not what it should be."""


def parse_time(text: str, default: float) -> float:
    """Pioreactor's ISO timestamps (`...T04:49:19.895Z`) as epoch seconds; `default` when absent."""
    if not text:
        return default
    try:
        return datetime.fromisoformat(text).timestamp()
    except ValueError as exc:
        raise Malformed(f"bad timestamp {text[:40]!r}") from exc

"""Browser sessions kept in the store: the cookie carries a random id, the store its sha256.

Unlike a signed cookie alone, a stored session can be ended: signing out, a password or role change and
deleting the user remove the rows (leader.db.users), and the next request with that cookie is anonymous.
"""

from __future__ import annotations

import hashlib
import secrets
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from . import now, transaction


def _hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _parse(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


@dataclass(frozen=True)
class Session:
    user: str
    role: str
    password_checked_at: datetime

    def password_age(self) -> float:
        return (datetime.now(UTC) - self.password_checked_at).total_seconds()


def create(db: sqlite3.Connection, user: str, lifetime_hours: float, address: str | None) -> str:
    """A new session for `user`; answers the id for the cookie (shown nowhere else)."""
    session_id = secrets.token_urlsafe(32)
    stamp = now()
    expires = _iso(datetime.now(UTC) + timedelta(hours=lifetime_hours))
    with transaction(db):
        db.execute("DELETE FROM sessions WHERE expires_at < ?", (stamp,))
        db.execute(
            "INSERT INTO sessions (id_sha256, user, created_at, expires_at, last_seen_at, "
            "password_checked_at, address) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (_hash(session_id), user, stamp, expires, stamp, stamp, address),
        )
    return session_id


def lookup(db: sqlite3.Connection, session_id: str) -> Session | None:
    """The live session with its user's current role; records use at most once a minute."""
    row = db.execute(
        "SELECT s.user, s.expires_at, s.last_seen_at, s.password_checked_at, u.role FROM sessions s "
        "JOIN users u ON u.name = s.user WHERE s.id_sha256 = ?",
        (_hash(session_id),),
    ).fetchone()
    stamp = now()
    if row is None or row["expires_at"] < stamp:
        return None
    if row["last_seen_at"][:16] != stamp[:16]:
        with transaction(db):
            db.execute("UPDATE sessions SET last_seen_at = ? WHERE id_sha256 = ?", (stamp, _hash(session_id)))
    return Session(row["user"], row["role"], _parse(row["password_checked_at"]))


def password_checked(db: sqlite3.Connection, session_id: str) -> None:
    with transaction(db):
        db.execute(
            "UPDATE sessions SET password_checked_at = ? WHERE id_sha256 = ?", (now(), _hash(session_id))
        )


def end(db: sqlite3.Connection, session_id: str) -> None:
    with transaction(db):
        db.execute("DELETE FROM sessions WHERE id_sha256 = ?", (_hash(session_id),))


def count_for(db: sqlite3.Connection, user: str) -> int:
    return int(db.execute("SELECT count(*) FROM sessions WHERE user = ?", (user,)).fetchone()[0])

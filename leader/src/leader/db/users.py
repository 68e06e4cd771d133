"""Users: name, role, password hash. The last admin can be neither removed nor demoted; a password or role
change ends the user's sessions (leader.db.sessions rows go in the same transaction)."""

from __future__ import annotations

import sqlite3

from cluster_schema.errors import Conflict, NotFound
from cluster_schema.people import ROLES, User

from . import now, transaction


def _user(row: sqlite3.Row) -> User:
    return User(
        name=row["name"], role=row["role"], created_at=row["created_at"], last_login_at=row["last_login_at"]
    )


def list_users(db: sqlite3.Connection) -> list[User]:
    return [_user(r) for r in db.execute("SELECT * FROM users ORDER BY name")]


def get(db: sqlite3.Connection, name: str) -> User:
    row = db.execute("SELECT * FROM users WHERE name = ?", (name,)).fetchone()
    if row is None:
        raise NotFound(f"No user {name!r}.")
    return _user(row)


def find(db: sqlite3.Connection, name: str) -> sqlite3.Row | None:
    """The full row (with the hash) or None: for sign-in."""
    return db.execute("SELECT * FROM users WHERE name = ?", (name,)).fetchone()


def role_of(db: sqlite3.Connection, name: str) -> str | None:
    row = db.execute("SELECT role FROM users WHERE name = ?", (name,)).fetchone()
    return None if row is None else str(row[0])


def count_admins(db: sqlite3.Connection) -> int:
    return int(db.execute("SELECT count(*) FROM users WHERE role = 'admin'").fetchone()[0])


def create(db: sqlite3.Connection, name: str, password_hash: str, role: str) -> User:
    assert role in ROLES
    stamp = now()
    with transaction(db):
        if db.execute("SELECT 1 FROM users WHERE name = ?", (name,)).fetchone():
            raise Conflict(f"User {name!r} exists.")
        db.execute(
            "INSERT INTO users (name, password_hash, role, created_at, password_changed_at) "
            "VALUES (?, ?, ?, ?, ?)",
            (name, password_hash, role, stamp, stamp),
        )
    return get(db, name)


def _refuse_last_admin(db: sqlite3.Connection, name: str, what: str) -> None:
    if role_of(db, name) == "admin" and count_admins(db) == 1:
        raise Conflict(f"{name!r} is the last admin and cannot be {what}: make another admin first.")


def set_role(db: sqlite3.Connection, name: str, role: str) -> User:
    assert role in ROLES
    with transaction(db):
        current = role_of(db, name)
        if current is None:
            raise NotFound(f"No user {name!r}.")
        if current != role:
            if role != "admin":
                _refuse_last_admin(db, name, "demoted")
            db.execute("UPDATE users SET role = ? WHERE name = ?", (role, name))
            db.execute("DELETE FROM sessions WHERE user = ?", (name,))
    return get(db, name)


def set_password(db: sqlite3.Connection, name: str, password_hash: str) -> None:
    with transaction(db):
        cur = db.execute(
            "UPDATE users SET password_hash = ?, password_changed_at = ? WHERE name = ?",
            (password_hash, now(), name),
        )
        if cur.rowcount == 0:
            raise NotFound(f"No user {name!r}.")
        db.execute("DELETE FROM sessions WHERE user = ?", (name,))


def delete(db: sqlite3.Connection, name: str) -> None:
    """Removes the user, ends their sessions and revokes their tokens."""
    with transaction(db):
        if role_of(db, name) is None:
            raise NotFound(f"No user {name!r}.")
        _refuse_last_admin(db, name, "removed")
        db.execute("DELETE FROM sessions WHERE user = ?", (name,))
        db.execute(
            "UPDATE api_tokens SET revoked_at = ? WHERE owner = ? AND revoked_at IS NULL", (now(), name)
        )
        db.execute("DELETE FROM users WHERE name = ?", (name,))


def signed_in(db: sqlite3.Connection, name: str) -> None:
    with transaction(db):
        db.execute("UPDATE users SET last_login_at = ? WHERE name = ?", (now(), name))

"""API tokens: 32 random bytes shown once; the store keeps only their sha256.

A plain sha256 (no salt, no slow hash) is enough because the tokens are 256-bit random values, not
passwords: there is no dictionary to try, and brute force over 2**256 is out of reach. A fast hash also
keeps checking a token on every request cheap.

Each token has a role (as created) and an owner (the user who created it; NULL for the CLI's). Its
effective role is the lower of its own and its owner's current role, so demoting a user caps their tokens;
deleting a user revokes them (leader.db.users.delete).
"""

from __future__ import annotations

import hashlib
import secrets
import sqlite3
from dataclasses import dataclass

from cluster_schema.errors import NotFound
from cluster_schema.leader import Token, TokenCreated
from cluster_schema.people import ROLES, lower_role

from . import now, transaction

PREFIX = "pcl_"  # makes a leaked token recognisable (secret scanners, logs)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _token(row: sqlite3.Row) -> Token:
    return Token(
        id=row["id"],
        name=row["name"],
        created_at=row["created_at"],
        last_used_at=row["last_used_at"],
        role=row["role"],
        owner=row["owner"],
    )


@dataclass(frozen=True)
class Credential:
    """A valid token: its id, name, owner (None: CLI) and effective role."""

    id: int
    name: str
    owner: str | None
    role: str


def create(db: sqlite3.Connection, name: str, role: str = "admin", owner: str | None = None) -> TokenCreated:
    """CLI and tests create owner-less tokens (admin unless told); users create their own (see api.tokens)."""
    assert role in ROLES
    token = PREFIX + secrets.token_urlsafe(32)
    created = now()
    with transaction(db):
        cur = db.execute(
            "INSERT INTO api_tokens (name, token_sha256, created_at, role, owner) VALUES (?, ?, ?, ?, ?)",
            (name, _hash(token), created, role, owner),
        )
    return TokenCreated(
        id=int(cur.lastrowid or 0),
        name=name,
        created_at=created,
        token=token,
        role=role,  # type: ignore[arg-type]
        owner=owner,
    )


def list_active(db: sqlite3.Connection, owner: str | None = None) -> list[Token]:
    """Every active token, or only those of `owner`."""
    where, args = ("AND owner = ?", (owner,)) if owner is not None else ("", ())
    rows = db.execute(
        f"SELECT * FROM api_tokens WHERE revoked_at IS NULL {where} ORDER BY id",  # noqa: S608
        args,
    ).fetchall()
    return [_token(r) for r in rows]


def get(db: sqlite3.Connection, token_id: int) -> Token:
    row = db.execute("SELECT * FROM api_tokens WHERE id = ? AND revoked_at IS NULL", (token_id,)).fetchone()
    if row is None:
        raise NotFound(f"No active API token with id {token_id}.")
    return _token(row)


def revoke(db: sqlite3.Connection, token_id: int) -> None:
    with transaction(db):
        cur = db.execute(
            "UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL", (now(), token_id)
        )
    if cur.rowcount == 0:
        raise NotFound(f"No active API token with id {token_id}.")


def identify(db: sqlite3.Connection, token: str) -> Credential | None:
    """The token when it is valid; records when it was last used (at most once a minute)."""
    row = db.execute(
        "SELECT t.id, t.name, t.role, t.owner, t.last_used_at, u.role AS owner_role FROM api_tokens t "
        "LEFT JOIN users u ON u.name = t.owner WHERE t.token_sha256 = ? AND t.revoked_at IS NULL",
        (_hash(token),),
    ).fetchone()
    if row is None:
        return None
    role = row["role"]
    if row["owner"] is not None:
        if row["owner_role"] is None:  # the owner is gone (deleting a user revokes; belt and braces)
            return None
        role = lower_role(role, row["owner_role"])
    stamp = now()
    if row["last_used_at"] is None or row["last_used_at"][:16] != stamp[:16]:
        with transaction(db):
            db.execute("UPDATE api_tokens SET last_used_at = ? WHERE id = ?", (stamp, row["id"]))
    return Credential(id=int(row["id"]), name=row["name"], owner=row["owner"], role=role)


def authenticate(db: sqlite3.Connection, token: str) -> int | None:
    """The token's id when it is valid."""
    found = identify(db, token)
    return None if found is None else found.id

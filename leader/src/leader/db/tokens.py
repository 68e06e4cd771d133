"""API tokens: 32 random bytes shown once; the store keeps only their sha256.

A plain sha256 (no salt, no slow hash) is enough because the tokens are 256-bit random values, not
passwords: there is no dictionary to try, and brute force over 2**256 is out of reach. A fast hash also
keeps checking a token on every request cheap.
"""

from __future__ import annotations

import hashlib
import secrets
import sqlite3

from cluster_schema.errors import NotFound
from cluster_schema.leader import Token, TokenCreated

from . import now, transaction

PREFIX = "pcl_"  # makes a leaked token recognisable (secret scanners, logs)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _token(row: sqlite3.Row) -> Token:
    return Token(
        id=row["id"], name=row["name"], created_at=row["created_at"], last_used_at=row["last_used_at"]
    )


def create(db: sqlite3.Connection, name: str) -> TokenCreated:
    token = PREFIX + secrets.token_urlsafe(32)
    created = now()
    with transaction(db):
        cur = db.execute(
            "INSERT INTO api_tokens (name, token_sha256, created_at) VALUES (?, ?, ?)",
            (name, _hash(token), created),
        )
    return TokenCreated(id=int(cur.lastrowid or 0), name=name, created_at=created, token=token)


def list_active(db: sqlite3.Connection) -> list[Token]:
    rows = db.execute("SELECT * FROM api_tokens WHERE revoked_at IS NULL ORDER BY id").fetchall()
    return [_token(r) for r in rows]


def revoke(db: sqlite3.Connection, token_id: int) -> None:
    with transaction(db):
        cur = db.execute(
            "UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL", (now(), token_id)
        )
    if cur.rowcount == 0:
        raise NotFound(f"No active API token with id {token_id}.")


def authenticate(db: sqlite3.Connection, token: str) -> int | None:
    """The token's id when it is valid; records when it was last used (at most once a minute)."""
    row = db.execute(
        "SELECT id, last_used_at FROM api_tokens WHERE token_sha256 = ? AND revoked_at IS NULL",
        (_hash(token),),
    ).fetchone()
    if row is None:
        return None
    stamp = now()
    if row["last_used_at"] is None or row["last_used_at"][:16] != stamp[:16]:
        with transaction(db):
            db.execute("UPDATE api_tokens SET last_used_at = ? WHERE id = ?", (stamp, row["id"]))
    return int(row["id"])

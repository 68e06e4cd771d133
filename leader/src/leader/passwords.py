"""Password hashing: werkzeug's scrypt (`werkzeug.security`).

Why werkzeug's scrypt: Werkzeug is already a pinned dependency (Flask's), so no new package; scrypt is
memory-hard (n=2**15, r=8: 32 MiB per check) and the hash string carries its parameters, so they can be
raised later; the comparison is constant-time (hmac.compare_digest). An unknown user name still costs one
hash (of a dummy), so timing does not tell which names exist.
"""

from __future__ import annotations

from functools import cache

from werkzeug.security import check_password_hash, generate_password_hash

METHOD = "scrypt"


def hash_password(password: str) -> str:
    return generate_password_hash(password, method=METHOD)


@cache
def _dummy() -> str:
    return hash_password("not a password of anyone: only makes unknown names cost the same")


def verify(stored_hash: str | None, password: str) -> bool:
    """Constant effort whether or not the user exists (`stored_hash` None)."""
    if stored_hash is None:
        check_password_hash(_dummy(), password)
        return False
    return check_password_hash(stored_hash, password)

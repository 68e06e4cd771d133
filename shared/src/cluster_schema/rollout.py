"""The setup wizard's rollout steps: is the leader's broker reachable with its credentials, and the SSH key
the leader's Ansible rollout logs in to the units with. Routes under `/api/setup` (admin).

Wire rules as everywhere: unknown fields are ignored, new fields have defaults. The private key is never
answered; only the public key and its fingerprint.
"""

from __future__ import annotations

import msgspec


class BrokerCheck(msgspec.Struct, kw_only=True):
    """POST /api/setup/broker_check: `ok`, or the reason the leader could not connect."""

    ok: bool
    broker: str  # host:port, never the credentials
    username: str | None = None
    reason: str = ""
    duration_ms: int = 0


class RolloutKey(msgspec.Struct, kw_only=True):
    """The rollout's ed25519 key: the public half (an `authorized_keys` line) and its SHA256 fingerprint."""

    public_key: str
    fingerprint: str
    created_at: str | None = None

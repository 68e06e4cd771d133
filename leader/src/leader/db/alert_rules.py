"""What alerts watch and where they go: threshold rules (a table), built-in rule parameters and channels
(JSON in `settings` under `alerts.builtin` and `alerts.channels`)."""

from __future__ import annotations

import sqlite3
from typing import Any

import msgspec

from cluster_schema import codec
from cluster_schema.alerts import (
    AlertChannels,
    AlertChannelsView,
    BuiltinRules,
    BuiltinRulesPatch,
    EmailChannelView,
    ThresholdRule,
    ThresholdRuleCreate,
    ThresholdRulePatch,
)
from cluster_schema.errors import NotFound

from . import now, transaction
from . import settings as settings_db

BUILTIN_KEY = "alerts.builtin"
CHANNELS_KEY = "alerts.channels"


# -- built-in rules -------------------------------------------------------------------------------------
def builtin(db: sqlite3.Connection) -> BuiltinRules:
    return codec.convert(BuiltinRules, settings_db.get(db, BUILTIN_KEY, {}))


def patch_builtin(db: sqlite3.Connection, patch: BuiltinRulesPatch) -> BuiltinRules:
    current = codec.to_builtins(builtin(db))
    current.update({k: v for k, v in codec.to_builtins(patch).items() if v is not None})
    updated = codec.convert(BuiltinRules, current).validate()
    settings_db.put(db, BUILTIN_KEY, codec.to_builtins(updated))
    return updated


# -- channels -------------------------------------------------------------------------------------------
def channels(db: sqlite3.Connection) -> AlertChannels:
    """With the stored password (for sending only: answers use `channels_view`)."""
    return codec.convert(AlertChannels, settings_db.get(db, CHANNELS_KEY, {}))


def channels_view(db: sqlite3.Connection) -> AlertChannelsView:
    stored = channels(db)
    email = None
    if stored.email is not None:
        e = stored.email
        email = EmailChannelView(
            host=e.host,
            port=e.port,
            starttls=e.starttls,
            username=e.username,
            password_set=bool(e.password),
            sender=e.sender,
            to=e.to,
            enabled=e.enabled,
        )
    return AlertChannelsView(webhooks=stored.webhooks, email=email)


def put_channels(db: sqlite3.Connection, new: AlertChannels) -> AlertChannelsView:
    with transaction(db):
        old = channels(db).email
        if new.email is not None and new.email.password is None and old is not None:
            new.email = msgspec.structs.replace(new.email, password=old.password)
        value: dict[str, Any] = codec.to_builtins(new)
        settings_db.put(db, CHANNELS_KEY, value)
    return channels_view(db)


def targets(db: sqlite3.Connection) -> list[tuple[str, str]]:
    """(channel, target) of every enabled channel: where a new alert event is delivered."""
    found = channels(db)
    out = [("webhook", h.url) for h in found.webhooks if h.enabled]
    if found.email is not None and found.email.enabled:
        out.append(("email", ", ".join(found.email.to)))
    return out


# -- threshold rules ------------------------------------------------------------------------------------
def _rule(r: sqlite3.Row) -> ThresholdRule:
    return ThresholdRule(
        id=r["id"],
        experiment=r["experiment"],
        series=r["series"],
        op=r["op"],
        value=r["value"],
        hold_seconds=r["hold_seconds"],
        enabled=bool(r["enabled"]),
        created_at=r["created_at"],
    )


def list_rules(db: sqlite3.Connection, enabled_only: bool = False) -> list[ThresholdRule]:
    where = " WHERE enabled = 1" if enabled_only else ""
    return [_rule(r) for r in db.execute("SELECT * FROM alert_rules" + where + " ORDER BY id")]  # noqa: S608


def get_rule(db: sqlite3.Connection, rule_id: int) -> ThresholdRule:
    row = db.execute("SELECT * FROM alert_rules WHERE id = ?", (rule_id,)).fetchone()
    if row is None:
        raise NotFound(f"No alert rule {rule_id}.")
    return _rule(row)


def add_rule(db: sqlite3.Connection, rule: ThresholdRuleCreate) -> ThresholdRule:
    with transaction(db):
        cur = db.execute(
            "INSERT INTO alert_rules (experiment, series, op, value, hold_seconds, enabled, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (rule.experiment, rule.series, rule.op, rule.value, rule.hold_seconds, int(rule.enabled), now()),
        )
    return get_rule(db, int(cur.lastrowid or 0))


def update_rule(db: sqlite3.Connection, rule_id: int, patch: ThresholdRulePatch) -> ThresholdRule:
    get_rule(db, rule_id)
    sets = {k: v for k, v in codec.to_builtins(patch).items() if v is not None}
    if "enabled" in sets:
        sets["enabled"] = int(sets["enabled"])
    if sets:
        assignments = ", ".join(f"{k} = ?" for k in sets)
        with transaction(db):
            db.execute(f"UPDATE alert_rules SET {assignments} WHERE id = ?", (*sets.values(), rule_id))  # noqa: S608
    return get_rule(db, rule_id)


def delete_rule(db: sqlite3.Connection, rule_id: int) -> None:
    get_rule(db, rule_id)
    with transaction(db):
        db.execute("DELETE FROM alert_rules WHERE id = ?", (rule_id,))

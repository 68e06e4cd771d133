"""`/alerts`: recorded alerts with their deliveries (everyone), and for admins the settings: channels
(webhooks, e-mail over SMTP), rules (built-in conditions, thresholds on chart series with a hold time) and a
test alert. Actions are `/api/alerts/*` calls (static/js/actions.js, static/js/alerts.js); the page only
reads the store.
"""

from __future__ import annotations

import msgspec
from flask import Blueprint, current_app, render_template

from .. import auth
from ..api.alerts import series_keys
from ..auth import requires
from ..db import alert_rules as rules_db
from ..db import alerts as alerts_db
from ..db import get_db

bp = Blueprint("alerts", __name__)
SHOWN = 100


@bp.get("/alerts")
@requires("viewer")
def index() -> str:
    db = get_db()
    admin = auth.has_role("admin")
    channels = msgspec.to_builtins(rules_db.channels_view(db)) if admin else None
    experiments = [r[0] for r in db.execute("SELECT name FROM experiments ORDER BY created_at DESC")]
    found = alerts_db.list_alerts(db, "all", None, SHOWN)
    return render_template(
        "alerts.html",
        alerts=sorted(found, key=lambda a: a.resolved_at is not None),  # open ones first, then newest
        builtin=rules_db.builtin(db),
        thresholds=rules_db.list_rules(db),
        channels=channels,
        experiments=experiments,
        series=series_keys(current_app),
        admin=admin,
        shown=SHOWN,
    )

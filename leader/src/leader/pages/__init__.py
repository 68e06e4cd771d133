"""The web UI: server-rendered pages (Jinja) in the leader's web process, beside `/api`.

One blueprint per concern (dashboard, operations, units), each a module of this package with `bp`; the shell
(`shell.py`: security headers, hashed asset URLs, who is signed in, formatting) is shared by all of them.
Pages read the store only (never fan out on load); actions are `fetch` calls to `/api` from small JS modules,
so one set of rules (roles, validation, operations) serves the UI, scripts and the CLI alike.
"""

from __future__ import annotations

from flask import Flask

from . import (
    alerts,
    compare,
    config,
    dashboard,
    experiments,
    export_dialog,
    logs,
    operations,
    people,
    profiles,
    schedules,
    shell,
    units,
)

BLUEPRINTS = [
    dashboard.bp,
    compare.bp,
    experiments.bp,
    operations.bp,
    units.bp,
    logs.bp,
    schedules.bp,
    profiles.bp,
    people.bp,
    people.account_bp,
    config.bp,
    alerts.bp,
]
# Credentials and roles: leader.auth's one app-wide check (a page without them redirects to /login).


def init_app(app: Flask) -> None:
    shell.init_app(app)
    export_dialog.init_app(app)
    for bp in BLUEPRINTS:
        app.register_blueprint(bp)

"""The leader of a Pioreactor cluster: `create_app()` builds the web app (`flask --app leader ...`)."""

from __future__ import annotations

import logging
import os
from typing import Any

from flask import Flask

__version__ = "0.1.0"


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Config: defaults < the TOML file in `LEADER_CONFIG` < `LEADER_*` env (see leader.config).

    `test_config` replaces file and environment (tests). The instance folder (relative paths, default
    files) is `LEADER_INSTANCE_PATH` or Flask's default.
    """
    instance = (test_config or {}).get("INSTANCE_PATH") or os.environ.get("LEADER_INSTANCE_PATH")
    app = Flask(__name__, instance_path=instance, instance_relative_config=True)
    os.makedirs(app.instance_path, exist_ok=True)
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    from . import (
        api,
        auth,
        backups,
        cli,
        config,
        db,
        errors,
        extensions,
        login,
        metrics,
        operations,
        pages,
        sessions,
        setup,
    )

    config.load(app, test_config)
    db.init_app(app)
    db.migrate.prepare(app)  # refuses a store newer than the code; migrates only with AUTO_MIGRATE
    errors.init_app(app)
    sessions.init_app(app)
    auth.init_app(app)
    extensions.init_app(app)
    operations.init_app(app)
    api.init_app(app)
    app.register_blueprint(login.bp)
    metrics.init_app(app)
    pages.init_app(app)
    cli.init_app(app)
    backups.init_app(app)
    setup.init_app(app)
    return app

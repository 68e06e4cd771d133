"""The agent's web process: `create_app()` serves `/unit_api` (run it with gunicorn, see deploy/unit_agent/).

    gunicorn --config deploy/unit_agent/gunicorn.conf.py

The app never runs `pio` itself: it validates, enqueues worker tasks and answers from what it already knows
(the job registry and its MQTT mirror of the unit's retained states and settings).
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import Flask

from . import auth, config, errors
from .api import calibrations, config_files, jobs, meta, metrics, plugins, system, tasks
from .pio import Pio
from .presence import setup_logging
from .registry import Registry
from .state import Mirror, MqttLink
from .store import Store
from .tasks import Queue

log = logging.getLogger("unit_agent.web")


@dataclass
class Agent:
    settings: config.Settings
    store: Store
    registry: Registry
    mirror: Mirror
    link: MqttLink
    queue: Queue
    pio: Pio  # builds and checks argument lists only; the worker runs them
    token: auth.Token
    metrics_token: auth.Token | None = None  # the read-only token of /unit_api/metrics, when configured


def start_mqtt(app: Flask) -> None:
    """Start the web process's MQTT mirror (gunicorn calls this in its worker, after the fork)."""
    app.extensions["unit_agent"].link.start()


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """`test_config` overrides settings by name (e.g. {"data_dir": ..., "token_file": ...})."""
    settings = config.load()
    if test_config:
        settings = dataclasses.replace(settings, **test_config)
    setup_logging(settings.log_level)
    app = Flask(__name__, static_folder=None)
    app.config["MAX_CONTENT_LENGTH"] = 2_000_000
    store = Store(settings.data_dir / "agent.sqlite", settings.result_ttl)
    mirror = Mirror(settings.unit)
    agent = Agent(
        settings=settings,
        store=store,
        registry=Registry(settings.registry_path(), settings.persistent_cache_path()),
        mirror=mirror,
        link=MqttLink(settings, "web", mirror),
        queue=Queue(settings, store),
        pio=Pio(settings),
        token=auth.Token(settings),
        metrics_token=auth.Token(settings, Path(settings.metrics_token_file))
        if settings.metrics_token_file
        else None,
    )
    app.extensions["unit_agent"] = agent
    errors.init_app(app)
    auth.init_app(app)
    for module in (meta, jobs, tasks, system, plugins, calibrations, config_files, metrics):
        app.register_blueprint(module.bp)

    # MQTT starts with the first request, or right after gunicorn forks its worker (post_worker_init in
    # deploy/unit_agent/gunicorn.conf.py): never in a process that is about to fork.
    def start_link() -> None:
        if not agent.link.started:
            agent.link.start()

    app.before_request(start_link)
    log.info("Unit agent web for %s (data in %s).", settings.unit, settings.data_dir)
    return app

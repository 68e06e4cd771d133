"""Leader configuration: defaults, then the TOML file named by `LEADER_CONFIG`, then `LEADER_*` variables.

Every setting below may be written in the file as `NAME = value` (top level) and overridden by the
environment variable `LEADER_NAME` (the value is parsed as JSON when it parses, else taken as a string),
e.g. `LEADER_SECRET_KEY`, `LEADER_DATABASE`, `LEADER_HUEY_DB`, `LEADER_CLUSTER_TOKEN_FILE`,
`LEADER_MQTT_URL`, `LEADER_OPERATION_DEADLINE`. Relative paths are relative to the instance folder.
"""

from __future__ import annotations

import logging
import os
import tomllib
import zoneinfo
from pathlib import Path
from typing import Any

from flask import Flask

log = logging.getLogger(__name__)

DEFAULTS: dict[str, Any] = {
    # host:port the web process binds; read by deploy/leader/gunicorn.conf.py (LEADER_LISTEN).
    "LISTEN": "0.0.0.0:8000",
    # Signs UI sessions. Required outside development (LEADER_SECRET_KEY).
    "SECRET_KEY": None,
    # The leader's store (LEADER_DATABASE) and Huey's queue, a separate file (LEADER_HUEY_DB).
    "DATABASE": "leader.sqlite",
    "HUEY_DB": "huey.sqlite",
    # How hard the store syncs a commit (LEADER_DB_SYNCHRONOUS): FULL fsyncs every commit, so an answered
    # request or an acknowledged MQTT message survives a power cut; NORMAL is faster but a power cut may
    # lose the last commits. EXTRA also syncs the directory. See docs/runbook.md and bench/ingest.py.
    "DB_SYNCHRONOUS": "FULL",
    # Backups (leader.backups): the folder (LEADER_BACKUP_DIR, relative to the instance folder), how many
    # scheduled/CLI backups are kept (LEADER_BACKUP_KEEP) and when the worker takes one (LEADER_BACKUP_AT,
    # a cron expression in TIMEZONE; empty = never).
    "BACKUP_DIR": "backups",
    "BACKUP_KEEP": 7,
    "BACKUP_AT": "30 3 * * *",
    # A file holding the cluster token the agents accept (LEADER_CLUSTER_TOKEN_FILE); created when missing.
    "CLUSTER_TOKEN_FILE": "cluster_token",
    # The MQTT broker the worker ingests from (LEADER_MQTT_URL).
    "MQTT_URL": "mqtt://127.0.0.1:1883",
    # The rollout's SSH private key (LEADER_ROLLOUT_SSH_KEY, relative to the instance folder; `.pub` beside
    # it): made by the setup wizard with ssh-keygen, mode 0600, never served.
    "ROLLOUT_SSH_KEY": "rollout_ssh/id_ed25519",
    # Agent requests: seconds to connect and to read one answer (LEADER_AGENT_CONNECT_TIMEOUT, ..._READ_...).
    "AGENT_CONNECT_TIMEOUT": 3.0,
    "AGENT_READ_TIMEOUT": 10.0,
    # Port of an agent when a unit is added without one (LEADER_AGENT_PORT).
    "AGENT_PORT": 4999,
    # Overall deadline of one operation's fan-out in seconds (LEADER_OPERATION_DEADLINE).
    "OPERATION_DEADLINE": 60.0,
    # Deadlines of kinds that need longer (LEADER_OPERATION_DEADLINES='{"system.update": 1200}').
    "OPERATION_DEADLINES": {"system.update": 1200.0, "system.reboot": 120.0, "system.shutdown": 120.0},
    # Most agents one fan-out talks to at once (LEADER_FANOUT_WORKERS): open sockets on one event loop.
    "FANOUT_WORKERS": 1024,
    # Threads of the Huey consumer = operations that run at the same time (LEADER_WORKER_THREADS).
    "WORKER_THREADS": 4,
    # Experiment profiles: how often the worker's driver looks for due actions, and how often a `when`
    # re-checks its condition (LEADER_PROFILE_TICK, LEADER_PROFILE_WHEN_POLL; Pioreactor polls every 15-25 s).
    "PROFILE_TICK": 0.25,
    "PROFILE_WHEN_POLL": 15.0,
    # Schedules (leader.schedules.runner, in the worker): seconds between looks at the store for changes
    # (LEADER_SCHEDULE_POLL), and seconds a missed firing may be late and still run, once
    # (LEADER_SCHEDULE_MISFIRE_GRACE).
    "SCHEDULE_POLL": 0.5,
    "SCHEDULE_MISFIRE_GRACE": 600.0,
    # Folder of contrib descriptors (jobs/, automations/<kind>/, charts/); empty = the repository's contrib/.
    "CONTRIB_DIR": "",
    # Largest request body in bytes (LEADER_MAX_CONTENT_LENGTH); config files are the biggest bodies.
    "MAX_CONTENT_LENGTH": 2 * 1024 * 1024,
    # How often an SSE stream polls the store, seconds (LEADER_SSE_POLL); the longest silence before a
    # heartbeat comment, so proxies keep the connection (LEADER_SSE_KEEPALIVE); and a stream's lifetime,
    # after which the browser reconnects and resumes with Last-Event-ID (LEADER_SSE_MAX_SECONDS).
    "SSE_POLL": 0.2,
    "SSE_KEEPALIVE": 15.0,
    "SSE_MAX_SECONDS": 3600.0,
    # Changes kept for GET /api/experiments/<exp>/events to resume from (LEADER_EVENTS_KEEP; the ingest
    # prunes older ones every minute). A browser away for longer gets a `reset` event and reloads.
    "EVENTS_KEEP": 200_000,
    # MQTT ingest (leader.ingest): the persistent session's client id (LEADER_INGEST_CLIENT_ID; empty =
    # derived from DATABASE, so two leaders on one broker never share a session), messages per transaction
    # at most (LEADER_INGEST_BATCH_SIZE), seconds a batch waits for more (LEADER_INGEST_FLUSH_INTERVAL), and
    # seconds between looks at CONTRIB_DIR for new charts and settings (LEADER_INGEST_DESCRIPTOR_REFRESH).
    "INGEST_CLIENT_ID": "",
    "INGEST_BATCH_SIZE": 1000,
    "INGEST_FLUSH_INTERVAL": 0.02,
    "INGEST_DESCRIPTOR_REFRESH": 30.0,
    # Logs, readings and audit entries older than this many days are pruned hourly; 0 keeps all
    # (LEADER_RETENTION_DAYS). Logs and readings of an experiment with units still assigned are kept.
    "RETENTION_DAYS": 0,
    # Where export zips are written (LEADER_EXPORTS_DIR); empty = <instance folder>/exports. Each new export
    # removes zips older than EXPORTS_KEEP_DAYS (LEADER_EXPORTS_KEEP_DAYS; 0 keeps them all).
    "EXPORTS_DIR": "",
    "EXPORTS_KEEP_DAYS": 7,
    # Fleet (leader.fleet): plugin install/uninstall is refused (403) unless PLUGINS_ENABLED
    # (LEADER_PLUGINS_ENABLED; each agent's allow_plugins must be on too); PLUGINS_ALLOWED, when not empty,
    # lists the only plugin names that may be installed (LEADER_PLUGINS_ALLOWED='["pioreactor-x"]').
    # The worker asks `/unit_api/versions` of units whose status is older than FLEET_STALE_AFTER seconds,
    # looking every FLEET_CHECK_INTERVAL seconds (0 = never; LEADER_FLEET_CHECK_INTERVAL).
    "PLUGINS_ENABLED": False,
    "PLUGINS_ALLOWED": [],
    "FLEET_CHECK_INTERVAL": 120.0,
    "FLEET_STALE_AFTER": 300.0,
    # People (leader.auth, leader.sessions). Browser sessions last SESSION_HOURS (LEADER_SESSION_HOURS);
    # set SESSION_COOKIE_SECURE = true when users reach the leader over HTTPS (LEADER_SESSION_COOKIE_SECURE);
    # TRUSTED_PROXIES = how many reverse proxies stand in front whose X-Forwarded-* headers are trusted
    # (0: none, the default; LEADER_TRUSTED_PROXIES). Dangerous actions over a session need a password
    # check within REAUTH_MINUTES. Failed password checks: at most LOGIN_FAILURES_PER_MINUTE per user and
    # per address (then 429 with Retry-After), each answered after LOGIN_FAILURE_DELAY seconds.
    "SESSION_HOURS": 168.0,
    "SESSION_COOKIE_SECURE": False,
    "TRUSTED_PROXIES": 0,
    "REAUTH_MINUTES": 10.0,
    "LOGIN_FAILURES_PER_MINUTE": 5,
    "LOGIN_FAILURE_DELAY": 1.0,
    # The lab's time zone, an IANA name such as `Europe/Berlin` (LEADER_TIMEZONE): time columns of
    # exports, pages (GET /api/health answers it) and cron defaults. Checked at start: an unknown zone
    # stops the leader with a clear error.
    "TIMEZONE": "UTC",
    # GET /metrics answers without credentials when true (LEADER_METRICS_PUBLIC); else as any read.
    "METRICS_PUBLIC": False,
    # Alerts (leader.alerts, run by the worker): seconds between evaluations (LEADER_ALERTS_INTERVAL);
    # seconds one webhook POST or SMTP session may take; parallel sends; retries: first after
    # ALERTS_RETRY_BASE s, doubling up to ALERTS_RETRY_MAX s, ALERTS_MAX_ATTEMPTS tries in all; a name for
    # the cluster in e-mail subjects and webhook payloads; the SMTP password when the e-mail channel
    # stores none of its own (a secret: keep it in the TOML file rendered by the deployment).
    "ALERTS_INTERVAL": 10.0,
    "ALERTS_SEND_TIMEOUT": 10.0,
    "ALERTS_DELIVERY_THREADS": 4,
    "ALERTS_RETRY_BASE": 5.0,
    "ALERTS_RETRY_MAX": 600.0,
    "ALERTS_MAX_ATTEMPTS": 8,
    "ALERTS_CLUSTER_NAME": "",
    "ALERTS_SMTP_PASSWORD": "",
    # Migrate the store inside create_app (LEADER_AUTO_MIGRATE). Unset: yes for tests (create_app given
    # a config) and APP_ENV=development; no in production, where the worker or `init-db` migrates.
    "AUTO_MIGRATE": None,
    # Seconds the web process waits at start for the store to reach the code's schema (LEADER_SCHEMA_WAIT).
    "SCHEMA_WAIT": 120.0,
    # Seconds the worker gives running operations after SIGTERM/SIGINT (LEADER_WORKER_SHUTDOWN_GRACE).
    "WORKER_SHUTDOWN_GRACE": 3.0,
}

# Values that are only acceptable on a developer's machine.
_PLACEHOLDER_KEYS = {None, "", "dev", "change-me", "changeme", "secret"}
MIN_SECRET_KEY = 16


def app_env() -> str:
    """`APP_ENV`, read from the environment only: development must be chosen explicitly."""
    return os.environ.get("APP_ENV", "production").strip().lower()


def load(app: Flask, test_config: dict[str, Any] | None = None) -> None:
    app.config.update(DEFAULTS)
    if test_config is None:
        path = os.environ.get("LEADER_CONFIG")
        if path:
            app.config.from_file(path, load=tomllib.load, text=False)
        app.config.from_prefixed_env("LEADER")
    else:
        app.config.update(test_config)
    app.config["APP_ENV"] = app_env()
    if app.config["AUTO_MIGRATE"] is None:
        app.config["AUTO_MIGRATE"] = test_config is not None or app.config["APP_ENV"] == "development"
    for key in ("DATABASE", "HUEY_DB", "CLUSTER_TOKEN_FILE", "BACKUP_DIR"):
        app.config[key] = str(Path(app.instance_path, app.config[key]))  # absolute paths stay as they are
    if not app.config["CONTRIB_DIR"]:
        app.config["CONTRIB_DIR"] = str(Path(__file__).resolve().parents[3] / "contrib")
    check_secret_key(app)
    check_timezone(app)


def check_timezone(app: Flask) -> None:
    name = app.config["TIMEZONE"]
    try:
        zoneinfo.ZoneInfo(str(name))
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise RuntimeError(
            f"Unknown TIMEZONE {name!r}: set LEADER_TIMEZONE (or TIMEZONE in the LEADER_CONFIG file) to an "
            "IANA zone name such as UTC, Europe/Berlin or America/New_York."
        ) from None


def check_secret_key(app: Flask) -> None:
    key = app.config["SECRET_KEY"]
    if key in _PLACEHOLDER_KEYS or len(str(key)) < MIN_SECRET_KEY:
        if app.config["APP_ENV"] != "development":
            raise RuntimeError(
                "No real SECRET_KEY configured: set LEADER_SECRET_KEY (or SECRET_KEY in the "
                f"LEADER_CONFIG file) to a random value of at least {MIN_SECRET_KEY} characters: "
                "`python -c 'import secrets; print(secrets.token_hex(32))'`."
            )
        app.config["SECRET_KEY"] = "development-only-key"  # noqa: S105
        log.warning("APP_ENV=development: using a throw-away SECRET_KEY")


def listen() -> str:
    """LISTEN without building the app (gunicorn's config file needs it before any worker exists)."""
    value = DEFAULTS["LISTEN"]
    path = os.environ.get("LEADER_CONFIG")
    if path:
        with open(path, "rb") as fh:
            value = tomllib.load(fh).get("LISTEN", value)
    return str(os.environ.get("LEADER_LISTEN", value))

"""Agent configuration: defaults, then the TOML file named by `UNIT_AGENT_CONFIG`, then the environment.

The web process and the worker read the same file, so both agree on the data directory and the broker.
Every setting below is written in the file as `name = value` at the top level, or `key = value` inside a
`[section]` for the names `section_key` (e.g. `[mqtt] url` is `mqtt_url`). The environment variable
`UNIT_AGENT_<NAME>` (upper case) overrides it; lists are given there as JSON (`'["sudo", "reboot"]'`).
`APP_ENV=development` allows running without a token (loudly logged); anything else is production.
"""

from __future__ import annotations

import dataclasses
import json
import os
import socket
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ENV_PREFIX = "UNIT_AGENT_"

# Environment the agent hands on to `pio` from its own (the rest of its environment stays out).
PASSTHROUGH_ENV = [
    "PATH", "HOME", "USER", "LOGNAME", "LANG", "LC_ALL", "TZ",
    "DOT_PIOREACTOR", "GLOBAL_CONFIG", "LOCAL_CONFIG", "RUN_PIOREACTOR", "HOSTNAME", "TESTING",
    "MODEL_NAME", "MODEL_VERSION", "HARDWARE", "FIRMWARE", "HAT_PRESENT", "SKIP_PLUGINS", "NO_COLOR",
    "EXPERIMENT", "PIO_SIM_SPEED",
]  # fmt: skip


class ConfigError(RuntimeError):
    """The agent refuses to start with this configuration."""


@dataclass(frozen=True)
class Settings:
    # This unit's name, as it appears in MQTT topics and to the leader (default: the hostname).
    unit: str = field(default_factory=lambda: socket.gethostname().split(".")[0])
    # The `pio` executable (a path, or a name found on PATH).
    pio: str = "pio"
    # Where the agent keeps its own files: huey.sqlite (queue), agent.sqlite (results), job_logs/.
    data_dir: Path = Path("/var/lib/unit_agent")
    # Pioreactor's DOT_PIOREACTOR folder: config files, calibrations, storage.
    dot_pioreactor: Path = Path("/home/pioreactor/.pioreactor")
    # Pioreactor's job registry and persistent cache; "" = from `[storage]` of config.ini, else the default.
    registry: str = ""
    persistent_cache: str = ""
    # host:port gunicorn binds (deploy/unit_agent/gunicorn.conf.py reads it).
    listen: str = "0.0.0.0:4999"
    # File with the cluster token; must be readable by the agent's user only.
    token_file: Path = Path("/etc/unit_agent/token")
    # GET /unit_api/metrics (Prometheus) accepts the cluster token, or the read-only token in this file
    # ("" = none; same rules as token_file), so a monitoring server never holds the cluster token.
    # metrics_public = true answers it without credentials.
    metrics_token_file: str = ""
    metrics_public: bool = False
    # Plugin install/uninstall is refused (403) unless this is true.
    allow_plugins: bool = False
    # Where plugins come from (an offline lab's mirror): pip's --find-links folder/URL and index URL,
    # handed to `pio plugins install` as PIP_FIND_LINKS / PIP_INDEX_URL ("" = pip's defaults).
    plugins_find_links: str = ""
    plugins_index_url: str = ""
    # Seconds between status heartbeats on `pioreactor/<unit>/$agent/status` (0 = none), and between the
    # cheap checks that publish sooner when versions or the running job count change.
    heartbeat_interval: float = 30.0
    heartbeat_check: float = 5.0
    # Seconds a finished task's result stays readable.
    result_ttl: float = 3600.0
    # Seconds a task may wait in the queue (worker down); older ones are not run but reported failed.
    task_max_age: float = 300.0
    # Seconds the worker gives running tasks after SIGTERM/SIGINT (a second signal ends the wait); keep it
    # below the stop timeout of whatever supervises the worker (the deploy role's unit: TimeoutStopSec).
    worker_shutdown_grace: float = 3.0
    # Python log level of the agent's own logger.
    log_level: str = "INFO"
    # The broker: mqtt://host:port, credentials optional.
    mqtt_url: str = "mqtt://localhost:1883"
    mqtt_username: str = ""
    mqtt_password: str = ""
    # Seconds: a short `pio` call; a job reaching `ready`; each stop signal's grace; a setting's echo.
    timeouts_pio_call: float = 30.0
    timeouts_job_ready: float = 30.0
    timeouts_stop_grace: float = 5.0
    timeouts_setting_echo: float = 15.0
    # Seconds a system command (update, reboot…) or a plugin install may take.
    timeouts_system_command: float = 900.0
    # Environment variables a run request may set (`env` of the body); everything else is refused (400).
    env_allowed: list[str] = field(default_factory=lambda: ["EXPERIMENT", "JOB_SOURCE", "ACTIVE", "DEBUG"])
    # Variables passed from the agent's own environment to `pio`.
    env_passthrough: list[str] = field(default_factory=lambda: list(PASSTHROUGH_ENV))
    # System commands (argument lists, never a shell). `{pio}` is the pio path, `{utc}` the requested time.
    system_reboot: list[str] = field(default_factory=lambda: ["sudo", "reboot"])
    system_shutdown: list[str] = field(default_factory=lambda: ["sudo", "shutdown", "-h", "now"])
    system_update: list[str] = field(default_factory=lambda: ["{pio}", "update", "app"])
    system_set_clock: list[str] = field(default_factory=lambda: ["sudo", "date", "-u", "--set", "{utc}"])
    # true: system commands are reported, not run (tests, demos).
    system_dry_run: bool = False
    # Config files PUT/GET may touch, inside dot_pioreactor.
    config_files: list[str] = field(default_factory=lambda: ["config.ini", "unit_config.ini"])
    # "development" or "production"; from APP_ENV.
    app_env: str = "production"

    @property
    def mqtt_host_port(self) -> tuple[str, int]:
        rest = self.mqtt_url.split("://", 1)[-1].rstrip("/")
        host, _, port = rest.rpartition(":") if ":" in rest else (rest, "", "1883")
        return host or "localhost", int(port or 1883)

    @property
    def development(self) -> bool:
        return self.app_env == "development"

    def registry_path(self) -> Path:
        return Path(
            self.registry or self._storage("temporary_cache", "local_intermittent_pioreactor_metadata")
        )

    def persistent_cache_path(self) -> Path:
        return Path(
            self.persistent_cache or self._storage("persistent_cache", "local_persistent_pioreactor_metadata")
        )

    def _storage(self, key: str, default_stem: str) -> str:
        # Pioreactor's config.ini says where its caches are; read it with configparser (stdlib, cheap).
        import configparser

        parser = configparser.ConfigParser(interpolation=None)
        try:
            parser.read(self.dot_pioreactor / "config.ini")
            value = parser.get("storage", key, fallback="")
        except configparser.Error:
            value = ""
        return value or str(self.dot_pioreactor / "storage" / f"{default_stem}.sqlite")


_FIELDS = {f.name: f for f in dataclasses.fields(Settings)}


def _flatten(data: dict[str, Any]) -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, dict):
            flat.update({f"{key}_{k}": v for k, v in value.items()})
        else:
            flat[key] = value
    return flat


def _coerce(name: str, value: Any) -> Any:
    kind = str(_FIELDS[name].type)
    if kind == "Path":
        return Path(value).expanduser()
    if kind == "bool" and isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    if kind == "float":
        return float(value)
    if kind.startswith("list") and isinstance(value, str):
        value = json.loads(value)
    if kind.startswith("list") and not (isinstance(value, list) and all(isinstance(v, str) for v in value)):
        raise ConfigError(f"Setting `{name}` must be a list of strings.")
    return value


def load(path: str | os.PathLike[str] | None = None, environ: dict[str, str] | None = None) -> Settings:
    env = dict(os.environ if environ is None else environ)
    path = path or env.get("UNIT_AGENT_CONFIG")
    values: dict[str, Any] = {}
    if path:
        try:
            with open(path, "rb") as fh:
                values = _flatten(tomllib.load(fh))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(f"Cannot read the agent configuration {path}: {exc}") from exc
    for name in _FIELDS:
        if ENV_PREFIX + name.upper() in env:
            values[name] = env[ENV_PREFIX + name.upper()]
    unknown = sorted(set(values) - set(_FIELDS))
    if unknown:
        raise ConfigError(f"Unknown setting(s) in the agent configuration: {', '.join(unknown)}.")
    values["app_env"] = env.get("APP_ENV", values.get("app_env", "production")).strip().lower()
    try:
        return Settings(**{k: _coerce(k, v) for k, v in values.items()})
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"Invalid agent configuration: {exc}") from exc

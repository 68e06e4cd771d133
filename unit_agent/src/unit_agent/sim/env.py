"""Where the simulated unit lives: read from the same environment and config.ini as the real `pio`."""

from __future__ import annotations

import configparser
import os
import socket
from functools import cached_property
from pathlib import Path

PIO_VERSION = "26.11.1"  # the real release this simulator behaves like
DEFAULT_EXPERIMENT = "_testing_experiment"
UNIVERSAL_EXPERIMENT = "$experiment"  # long-running jobs (monitor) live outside any experiment


def _env_float(name: str, default: float) -> float:
    try:
        value = float(os.environ.get(name, default))
    except ValueError:
        return default
    return value if value > 0 else default


class SimEnv:
    """One unit's view of the world. Everything is looked up the way real pio looks it up."""

    @cached_property
    def dot_pioreactor(self) -> Path:
        return Path(os.environ.get("DOT_PIOREACTOR") or Path.home() / ".pioreactor")

    @cached_property
    def config_path(self) -> Path:
        return Path(os.environ.get("GLOBAL_CONFIG") or self.dot_pioreactor / "config.ini")

    @cached_property
    def config(self) -> configparser.ConfigParser:
        cfg = configparser.ConfigParser(strict=False, interpolation=None)
        cfg.optionxform = str  # type: ignore[assignment,method-assign]
        # Unlike real pio, a missing config.ini is not fatal: someone trying an agent without hardware
        # gets the defaults (broker localhost:1883, storage under DOT_PIOREACTOR).
        cfg.read(self.config_path)
        local = Path(os.environ.get("LOCAL_CONFIG") or self.dot_pioreactor / "unit_config.ini")
        if local.is_file():
            cfg.read(local)
        return cfg

    @cached_property
    def unit(self) -> str:
        return os.environ.get("HOSTNAME") or socket.gethostname()

    @cached_property
    def experiment(self) -> str:
        return os.environ.get("EXPERIMENT") or DEFAULT_EXPERIMENT

    @property
    def broker(self) -> tuple[str, int]:
        host = self.config.get("mqtt", "broker_address", fallback="localhost")
        return host, self.config.getint("mqtt", "broker_port", fallback=1883)

    @property
    def leader(self) -> str:
        return self.config.get("cluster.topology", "leader_hostname", fallback="localhost")

    @property
    def registry_path(self) -> Path:
        default = self.dot_pioreactor / "storage" / "local_intermittent_pioreactor_metadata.sqlite"
        return Path(self.config.get("storage", "temporary_cache", fallback=str(default)))

    @cached_property
    def speed(self) -> float:
        """PIO_SIM_SPEED: simulated seconds per real second (biology and automations; default 1)."""
        return _env_float("PIO_SIM_SPEED", 1.0)

    @cached_property
    def min_interval(self) -> float:
        """PIO_SIM_MIN_INTERVAL: fewest wall seconds between two readings or automation runs (0.5)."""
        return _env_float("PIO_SIM_MIN_INTERVAL", 0.5)

    def getfloat(self, section: str, key: str, fallback: float) -> float:
        try:
            return self.config.getfloat(section, key, fallback=fallback)
        except ValueError:
            return fallback

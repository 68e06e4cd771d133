"""Build off-Pi Pioreactor units for tests: the real `pio` 26.11.1 (testing mode) or the simulator.

API (stable; other tests rely on it):

    real_pio_unavailable_reason() -> str | None
        None when the real pio can be used here; otherwise why not (no Python >= 3.13 found).
        Tests call `pytest.skip(reason)` on a non-None answer - and only then.
    make_real_unit(dir, unit, host, port, *, experiment=None, plugins=False) -> Path
        Writes a unit directory and returns `dir/pio`: an executable that runs the real `pio`
        (PyPI pioreactor[worker]==26.11.1, TESTING=1: mocked hardware, real MQTT, real job registry).
        The venv is built once (pip, ~15 s) and cached in real_pio_home() (env REAL_PIO_HOME,
        default ~/.cache/pioreactor-cluster/real-pio); builds from parallel workers are serialised.
        plugins=True: the unit gets its own layer on that venv for `pio plugins install` (plugin_env.py).
    make_sim_unit(dir, unit, host, port, *, experiment=None, speed=None) -> Path
        The same unit directory, but `dir/pio` runs `pio-sim` (unit_agent.sim) configured the same way.
        `speed` sets PIO_SIM_SPEED (simulated seconds per real second) unless the caller's env has one.
    unit_paths(dir) -> UnitPaths
        Where a unit keeps things: .pio (wrapper), .dot (DOT_PIOREACTOR), .config (config.ini),
        .run (RUN_PIOREACTOR, the working directory), .registry (the job registry SQLite file).

Both wrappers export what real pio reads: TESTING=1, DOT_PIOREACTOR, GLOBAL_CONFIG (whose [mqtt]
broker_address/broker_port point at the broker), RUN_PIOREACTOR, HOSTNAME=<unit>, model/hardware
variables, and EXPERIMENT (a value in the caller's environment wins; default `experiment` or
`_testing_experiment`). Each unit needs its own directory: one job of each name runs per unit.

Python 3.13 is found as $REAL_PIO_PYTHON, else `python3.13` on PATH, else a pyenv-built 3.13.
"""

from __future__ import annotations

import configparser
import contextlib
import fcntl
import functools
import os
import shlex
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from .plugin_env import layered_pio_env

REAL_PIO_VERSION = "26.11.1"
DEFAULT_EXPERIMENT = "_testing_experiment"
# pyyaml: pioreactor reads yaml through msgspec.yaml, which needs it but pioreactor does not declare it.
_REQUIREMENTS = (f"pioreactor[worker]=={REAL_PIO_VERSION}", "pyyaml")


@dataclass(frozen=True)
class UnitPaths:
    root: Path

    @property
    def pio(self) -> Path:
        return self.root / "pio"

    @property
    def dot(self) -> Path:
        return self.root / "dotpio"

    @property
    def config(self) -> Path:
        return self.dot / "config.ini"

    @property
    def run(self) -> Path:
        return self.root / "run"

    @property
    def registry(self) -> Path:
        return self.dot / "storage" / "local_intermittent_pioreactor_metadata.sqlite"


def unit_paths(dir: Path) -> UnitPaths:
    return UnitPaths(Path(dir).resolve())


def real_pio_home() -> Path:
    return Path(os.environ.get("REAL_PIO_HOME") or Path.home() / ".cache" / "pioreactor-cluster" / "real-pio")


def _is_313(python: str | None) -> bool:
    if not python:
        return False
    try:
        probe = [python, "-c", "import sys; sys.exit(sys.version_info < (3, 13))"]
        return subprocess.run(probe, capture_output=True, timeout=20).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


@functools.cache
def find_python313() -> str | None:
    pyenv_root = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv")
    candidates = [os.environ.get("REAL_PIO_PYTHON"), shutil.which("python3.13")]
    candidates += [str(p) for p in sorted(pyenv_root.glob("versions/3.1[3-9]*/bin/python3"))]
    return next((c for c in candidates if _is_313(c)), None)


def real_pio_unavailable_reason() -> str | None:
    if find_python313() is None:
        return (
            f"real pio {REAL_PIO_VERSION} needs Python >= 3.13 and none was found "
            "($REAL_PIO_PYTHON, python3.13 on PATH, or pyenv versions/3.13*)"
        )
    return None


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def ensure_real_pio_venv() -> Path:
    """The cached venv holding real pio; built on first use (xdist workers wait for each other)."""
    home = real_pio_home()
    venv = home / f"venv-{REAL_PIO_VERSION}"
    with _locked(home / ".build.lock"):
        if (venv / ".complete").exists():
            return venv
        python = find_python313()
        if python is None:
            raise RuntimeError(real_pio_unavailable_reason() or "no Python 3.13")
        shutil.rmtree(venv, ignore_errors=True)
        subprocess.run([python, "-m", "venv", str(venv)], check=True, timeout=300)
        pip = [str(venv / "bin" / "pip"), "install", "-q", "--disable-pip-version-check", *_REQUIREMENTS]
        done = subprocess.run(pip, capture_output=True, text=True, timeout=900)
        if done.returncode != 0:
            raise RuntimeError(f"pip install of real pio failed:\n{done.stdout}\n{done.stderr}")
        (venv / ".complete").touch()
    return venv


def _config(paths: UnitPaths, host: str, port: int) -> configparser.ConfigParser:
    """The config.ini a worker gets from its leader, cut to what the jobs in testing mode read."""
    storage = paths.dot / "storage"
    sections: dict[str, dict[str, object]] = {
        "PWM": {"1": "stirring", "2": "waste", "3": "media", "4": "alt_media", "5": "heating"},
        "leds": {"A": "IR", "B": "white_light", "C": "", "D": ""},
        "bioreactor": {
            "max_working_volume_ml": 14,
            "initial_volume_ml": 14,
            "initial_alt_media_fraction": 0.0,
        },
        "stirring.config": {
            "initial_target_rpm": 500,
            "initial_duty_cycle": 15,
            "pwm_hz": 200,
            "use_rpm": "True",
            "duration_between_updates_seconds": 23,
            "post_delay_duration": 0.25,
            "pre_delay_duration": 0.25,
            "enable_dodging_od": "false",
            "target_rpm_during_od_reading": 0,
            "target_rpm_outside_od_reading": 500,
        },
        "stirring.pid": {"Kp": 0.007, "Ki": 0.0, "Kd": 0.0},
        "od_config.photodiode_channel": {"1": "REF", "2": "90"},
        "od_reading.config": {
            "samples_per_second": 0.2,
            "turn_off_leds_during_reading": 1,
            "pd_reference_ema": 0.4,
            "ir_led_intensity": "auto",
            "smoothing_penalizer": 6.0,
        },
        "storage": {
            "database": storage / "pioreactor.sqlite",
            "temporary_cache": paths.registry,
            "persistent_cache": storage / "local_persistent_pioreactor_metadata.sqlite",
            "number_of_backup_replicates_to_workers": 0,
        },
        "logging": {
            "log_file": paths.run / "pioreactor.log",
            "ui_log_file": paths.run / "pioreactor.log",
            "ui_log_level": "DEBUG",
            "console_log_level": "DEBUG",
        },
        "cluster.topology": {"leader_hostname": "localhost", "leader_address": "127.0.0.1"},
        "ui": {"port": 4999, "proto": "http"},
        "dosing_automation.pid_morbidostat": {"Kp": 5, "Ki": 0, "Kd": 0},
        "temperature_automation.thermostat": {"Kp": 0.01, "Ki": 0.01, "Kd": 0.01},
        "mqtt": {
            "username": "pioreactor",
            "password": "raspberry",
            "broker_address": host,
            "broker_port": port,
            "broker_ws_port": 9001,
            "ws_protocol": "ws",
            "use_tls": 0,
        },
        "dosing_automation.config": {
            "pause_between_subdoses_seconds": 0.5,
            "waste_removal_multiplier": 2.0,
            "max_volume_to_warn": 17.0,
            "max_volume_to_stop": 18.0,
            "max_subdose": 1.0,
            "experimental_pump_malfunction_tolerance": 0.2,
            "experimental_detect_pump_malfunction": "False",
        },
        "growth_rate_calculating.config": {"ekf_outlier_std_threshold": 3.0, "samples_for_od_statistics": 35},
    }
    cfg = configparser.ConfigParser()
    cfg.optionxform = str  # type: ignore[assignment,method-assign]  # keys are case-sensitive (A, Kp)
    for name, values in sections.items():
        cfg[name] = {k: str(v) for k, v in values.items()}
    return cfg


# Hardware descriptions real pio reads for HARDWARE=1.2 / pioreactor_40ml 1.5 (mocked in testing mode).
_HAT = "hardware/hats/1.2"
_MODEL = "hardware/models/pioreactor_40ml/1.5"
_PICO = "  driver: pico\n  address: 0x2C\n"
_HARDWARE_FILES = {
    f"{_HAT}/pwm.yaml": 'heater_pwm_channel: "5"\npwm_to_pin:\n'
    + "".join(f'  "{ch}": {pin}\n' for ch, pin in (("1", 17), ("2", 13), ("3", 16), ("4", 12), ("5", 18))),
    f"{_HAT}/dac.yaml": "address: 0x2C\n",
    f"{_HAT}/temp.yaml": "address: 0x4F\n",
    f"{_HAT}/adc.yaml": "".join(
        f"{name}:\n{_PICO}  channel: {ch}\n"
        for name, ch in (("aux", 1), ("version", 0), ("pd1", 2), ("pd2", 3))
    ),
    f"{_HAT}/gpio.yaml": "pcb_led_pin: 23\npcb_button_pin: 4\nhall_sensor_pin: 21\nsda_pin: 2\nscl_pin: 3\n",
    f"{_MODEL}/adc.yaml": "".join(
        f"{name}:\n  driver: ads1114\n  address: {addr}\n  channel: 0\n"
        for name, addr in (("pd1", "0x48"), ("pd2", "0x49"))
    ),
}


# Every unit directory written by this process, so its jobs can be stopped at the end (devcluster.cleanup).
CREATED: set[Path] = set()


def _write_unit(dir: Path, unit: str, host: str, port: int) -> UnitPaths:
    CREATED.add(Path(dir).resolve())
    paths = unit_paths(dir)
    for sub in ("storage/calibrations", _HAT, _MODEL):
        (paths.dot / sub).mkdir(parents=True, exist_ok=True)
    paths.run.mkdir(parents=True, exist_ok=True)
    with open(paths.config, "w") as fh:
        _config(paths, host, port).write(fh)
    for rel, text in _HARDWARE_FILES.items():
        (paths.dot / rel).write_text(text)
    return paths


def _write_wrapper(
    paths: UnitPaths,
    unit: str,
    defaults: dict[str, str],
    argv: list[str],
    path_prefix: str | None = None,
    *,
    skip_plugins: bool = True,
) -> Path:
    env = {
        "TESTING": "1",
        "DOT_PIOREACTOR": str(paths.dot),
        "GLOBAL_CONFIG": str(paths.config),
        "RUN_PIOREACTOR": str(paths.run),
        "HOSTNAME": unit,
        "MODEL_NAME": "pioreactor_40ml",
        "MODEL_VERSION": "1.5",
        "HARDWARE": "1.2",
        "FIRMWARE": "0.5",
        "NO_COLOR": "1",
    }
    if skip_plugins:  # pio loads no plugin (faster; a unit set up for plugins lists and loads them)
        env["SKIP_PLUGINS"] = "1"
    lines = ["#!/usr/bin/env bash", "# Generated by devcluster/units.py: one Pioreactor unit."]
    lines += [f"export {k}={shlex.quote(v)}" for k, v in env.items()]
    if path_prefix is not None:
        lines.append(f'export PATH={shlex.quote(path_prefix)}:"$PATH"')
    # Defaults: a value the caller passes in wins (the agent sets EXPERIMENT per run).
    lines += [f'export {k}="${{{k}:-{v}}}"' for k, v in defaults.items()]
    lines.append(f"cd {shlex.quote(str(paths.run))}")
    lines.append("exec " + " ".join(shlex.quote(a) for a in argv) + ' "$@"')
    paths.pio.write_text("\n".join(lines) + "\n")
    paths.pio.chmod(0o755)
    return paths.pio


def make_real_unit(
    dir: Path, unit: str, host: str, port: int, *, experiment: str | None = None, plugins: bool = False
) -> Path:
    venv = ensure_real_pio_venv()
    paths = _write_unit(Path(dir), unit, host, port)
    defaults = {"EXPERIMENT": experiment or DEFAULT_EXPERIMENT}
    if not plugins:
        return _write_wrapper(paths, unit, defaults, [str(venv / "bin" / "pio")], str(venv / "bin"))
    layer = layered_pio_env(paths.root, venv)  # `pio plugins install` changes this unit only
    prefix = f"{layer}:{venv / 'bin'}"
    return _write_wrapper(paths, unit, defaults, [str(layer / "pio")], prefix, skip_plugins=False)


def sim_argv() -> list[str]:
    """How to start pio-sim from this interpreter (the console script when installed)."""
    script = Path(sys.executable).parent / "pio-sim"
    return [str(script)] if script.exists() else [sys.executable, "-m", "unit_agent.sim.cli"]


def make_sim_unit(
    dir: Path, unit: str, host: str, port: int, *, experiment: str | None = None, speed: float | None = None
) -> Path:
    paths = _write_unit(Path(dir), unit, host, port)
    defaults = {"EXPERIMENT": experiment or DEFAULT_EXPERIMENT}
    if speed is not None:
        defaults["PIO_SIM_SPEED"] = f"{speed:g}"
    return _write_wrapper(paths, unit, defaults, sim_argv())

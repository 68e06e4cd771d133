"""`pio-sim plugins …`, `pio-sim calibrations …` and `pio-sim blink`: real pio's arguments and outputs.

Plugins go into the unit's own environment: `DOT_PIOREACTOR/plugins/site` (pip's `--target`), so each
simulated unit has its own set, like each real unit has its own Python. `pip` reads PIP_FIND_LINKS /
PIP_INDEX_URL / PIP_NO_INDEX from the environment the agent hands on. The active calibration per device
is kept where real pio keeps it: `cache_active_calibrations` of the persistent cache.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import click

from .env import SimEnv


def _site(env: SimEnv) -> Path:
    return env.dot_pioreactor / "plugins" / "site"


def _installed(env: SimEnv) -> list[metadata.Distribution]:
    site = _site(env)
    if not site.is_dir():
        return []
    found = [d for d in metadata.distributions(path=[str(site)]) if d.metadata["Name"]]
    return sorted(found, key=lambda d: d.metadata["Name"].lower())


def _norm(name: str) -> str:
    return name.lower().replace("_", "-").replace(".", "-")


@click.group(short_help="manage plugins")
def plugins() -> None:
    pass


@plugins.command(name="list", short_help="list the installed plugins")
@click.option("--json", "json_", is_flag=True, help="output as json")
def plugins_list(json_: bool) -> None:
    dists = _installed(SimEnv())
    if json_:
        items = [
            {
                "name": d.metadata["Name"],
                "version": d.version,
                "description": d.metadata["Summary"],
                "homepage": d.metadata["Home-page"],
                "source": "plugins",
                "author": d.metadata["Author"],
            }
            for d in dists
        ]
        click.echo(json.dumps(items))
    else:
        for d in dists:
            click.echo(f"{d.metadata['Name']}=={d.version}")


@plugins.command(name="install", short_help="install a plugin")
@click.argument("name-of-plugin")
@click.option(
    "--source", type=str, help="Install from a url, ex: https://github.com/user/repository/archive/main.zip"
)
@click.option("--version", type=str, help="Install an exact plugin version, ex: 1.2.3")
def plugins_install(name_of_plugin: str, source: str | None, version: str | None) -> None:
    if source and version:
        raise click.UsageError("--source and --version cannot be used together")
    requirement = source or (f"{name_of_plugin}=={version}" if version else name_of_plugin)
    site = _site(SimEnv())
    site.mkdir(parents=True, exist_ok=True)
    argv = [sys.executable, "-m", "pip", "install", "--no-deps", "--upgrade", "--disable-pip-version-check"]
    done = subprocess.run([*argv, "--target", str(site), requirement], capture_output=True, text=True)
    if done.returncode != 0:
        click.echo((done.stdout + done.stderr)[-1500:], err=True)
        raise click.ClickException(f"Failed to install plugin {name_of_plugin}.")
    click.echo(f"Successfully installed plugin `{name_of_plugin}`.")


@plugins.command(name="uninstall", short_help="uninstall an existing plugin")
@click.argument("name-of-plugin")
def plugins_uninstall(name_of_plugin: str) -> None:
    env = SimEnv()
    site = _site(env).resolve()
    for dist in _installed(env):
        if _norm(dist.metadata["Name"]) != _norm(name_of_plugin):
            continue
        paths = [Path(str(dist.locate_file(f))).resolve() for f in dist.files or []]
        folders = {p.parent for p in paths}
        for path in paths:
            if path.is_relative_to(site) and path.is_file():
                path.unlink()
        # folders left empty (the package's, the .dist-info), deepest first
        for folder in sorted(folders, key=lambda p: len(p.parts), reverse=True):
            if folder.is_relative_to(site) and folder != site and folder.is_dir():
                shutil.rmtree(folder) if folder.name.endswith(".dist-info") else _rmdir_empty(folder)
        click.echo(f"Successfully uninstalled plugin `{name_of_plugin}`.")
        return
    click.echo(f"WARNING: Skipping {name_of_plugin} as it is not installed.")


def _rmdir_empty(folder: Path) -> None:
    for sub in sorted((p for p in folder.rglob("*") if p.is_dir()), reverse=True):
        if not any(sub.iterdir()):
            sub.rmdir()
    if not any(folder.iterdir()):
        folder.rmdir()


# ---- calibrations ---------------------------------------------------------------------------------
def _persistent_cache(env: SimEnv) -> Path:
    default = env.dot_pioreactor / "storage" / "local_persistent_pioreactor_metadata.sqlite"
    return Path(env.config.get("storage", "persistent_cache", fallback=str(default)))


def _active(env: SimEnv) -> dict[str, str]:
    path = _persistent_cache(env)
    if not path.is_file():
        return {}
    with sqlite3.connect(path) as db:
        try:
            return {str(k): str(v) for k, v in db.execute("SELECT key, value FROM cache_active_calibrations")}
        except sqlite3.OperationalError:
            return {}


def _folder(env: SimEnv) -> Path:
    return env.dot_pioreactor / "storage" / "calibrations"


@click.group(short_help="calibration utils")
def calibrations() -> None:
    """interface for all calibrations."""


@calibrations.command(name="list", short_help="List existing calibrations for the given device if provided.")
@click.option("--device", required=False)
def calibrations_list(device: str | None) -> None:
    env = SimEnv()
    header = f"{'Device':<25}{'Name':<50}{'Calibration type':<50}{'Created at':<25}{'Active?':<10}"
    click.echo(header)
    click.echo("-" * len(header))
    active = _active(env)
    folder = _folder(env)
    devices = (
        [device]
        if device
        else sorted(p.name for p in folder.iterdir() if p.is_dir())
        if folder.is_dir()
        else []
    )
    for dev in devices:
        for file in sorted((folder / dev).glob("*.yaml")):
            mark = "✅" if active.get(dev) == file.stem else ""
            click.echo(f"{dev:<25}{file.stem:<50}{'':<50}{'':<25}{mark:<10}")


@calibrations.command(name="set-active")
@click.option("--device", required=True, help="Which calibration device to set as active.")
@click.option("--name", "calibration_name", required=False, help="Which calibration name to set as active.")
def set_active(device: str, calibration_name: str | None) -> None:
    env = SimEnv()
    if calibration_name is not None and not (_folder(env) / device / f"{calibration_name}.yaml").is_file():
        # real pio: load_calibration raises FileNotFoundError -> a traceback and exit 1
        click.echo(f"FileNotFoundError: Calibration {calibration_name} was not found in {device}", err=True)
        sys.exit(1)
    path = _persistent_cache(env)
    path.parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(path) as db:
        db.execute(
            "CREATE TABLE IF NOT EXISTS cache_active_calibrations (key _key_BLOB PRIMARY KEY, value BLOB)"
        )
        if calibration_name is None:
            db.execute("DELETE FROM cache_active_calibrations WHERE key = ?", (device,))
            click.echo(f"Clearing active calibration for {device}.")
        else:
            db.execute(
                "INSERT OR REPLACE INTO cache_active_calibrations (key, value) VALUES (?, ?)",
                (device, calibration_name),
            )


@click.command(name="blink", short_help="blink LED")
def blink() -> None:
    """What Pioreactor's leader does for `pio blink`: ask this unit's monitor job to flicker its LED."""
    from paho.mqtt import publish

    env = SimEnv()
    host, port = env.broker
    topic = f"pioreactor/{env.unit}/$experiment/monitor/flicker_led_response_okay"
    publish.single(topic, "1", qos=1, hostname=host, port=port)


FLEET_COMMANDS = [plugins, calibrations, blink]

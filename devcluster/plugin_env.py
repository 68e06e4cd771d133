"""A real-pio unit's own Python environment, so `pio plugins install` changes that unit only.

Real pio installs a plugin with `sudo -u pioreactor <its python> -m pip install …` into the environment it
runs from, then `sudo chown`s ~/.pioreactor to pioreactor:www-data. Off a Pi every real unit shares one
cached venv (devcluster.units), so a unit that may install plugins gets a thin venv layered on it: a venv
without packages whose `.pth` file puts the cached venv's site-packages on the path. pip installs into the
layer (its sys.prefix); pio, pip and their dependencies come from below. A `sudo` on the unit's PATH stands
for the Pi's: `-u pioreactor` runs the command as the agent's own user, and `chown` to the Pi's users (which
do not exist here) is skipped.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

SUDO = """#!/usr/bin/env bash
# Off-Pi stand-in for the Pi's sudo (devcluster/plugin_env.py): same user, no Pi accounts to chown to.
while [ $# -gt 0 ]; do
  case "$1" in
    -u) shift 2 ;;
    -*) shift ;;
    *) break ;;
  esac
done
[ "${1:-}" = chown ] && exit 0
exec "$@"
"""


def _site_packages(venv: Path) -> Path:
    found = sorted((venv / "lib").glob("python3.*/site-packages"))
    if not found:
        raise RuntimeError(f"no site-packages under {venv}")
    return found[0]


def layered_pio_env(root: Path, base: Path) -> Path:
    """Build `root/pio-env` on the venv `base` (real pio's); answers its bin folder (pio, python, sudo)."""
    layer = root / "pio-env"
    subprocess.run([str(base / "bin" / "python"), "-m", "venv", "--without-pip", str(layer)], check=True)
    (_site_packages(layer) / "_real_pio_below.pth").write_text(f"{_site_packages(base)}\n")
    bin_dir = layer / "bin"
    pio = bin_dir / "pio"
    pio.write_text(
        f"#!{bin_dir / 'python'}\nimport sys\n\nfrom pioreactor.cli.pio import pio\n\nsys.exit(pio())\n"
    )
    sudo = bin_dir / "sudo"
    sudo.write_text(SUDO)
    for script in (pio, sudo):
        script.chmod(0o755)
    return bin_dir

"""The command line outside of a running job: usage errors, exit codes, one-shot commands.

Run against both implementations; usage errors must match real pio character for character.
"""

from __future__ import annotations

import sqlite3
import subprocess
from pathlib import Path

import pytest

from devcluster.broker import Broker
from devcluster.procs import free_port
from devcluster.units import make_real_unit, make_sim_unit, real_pio_unavailable_reason, unit_paths

from .unit import pio_unit

# (argv, exit code, text that must be in stderr)
USAGE_ERRORS = [
    (["foo"], 2, "Error: No such command 'foo'."),
    (["run", "nosuch_job"], 2, "Error: No such command 'nosuch_job'."),
    (["run", "stirring", "--bogus", "1"], 2, "Error: No such option '--bogus'."),
    (["run", "stirring", "--duty-cycle", "500"], 2, "Error: Invalid value for '--duty-cycle'"),
    (
        ["run", "od_reading", "--interval", "abc"],
        2,
        "Error: Invalid value for '--interval': 'abc' is not a valid float.",
    ),
    (["run", "temperature_automation"], 2, "Error: Missing option '--automation-name'."),
    (["kill", "--job-id", "x"], 2, "Error: Invalid value for '--job-id': 'x' is not a valid integer."),
    (["jobs", "set", "stirring"], 2, "Error: Missing argument 'SETTING'."),
    (["jobs", "nope"], 2, "Error: No such command 'nope'."),
]

# (argv, exit code, stdout, text in stderr)
ONE_SHOTS = [
    (["version"], 0, "26.11.1", ""),
    (["plugins", "list", "--json"], 0, "[]", ""),
    (["jobs", "list", "running"], 0, "No jobs recorded.", ""),
    (["kill", "--job-name", "stirring"], 0, "Killed 0 jobs.", ""),
    (["kill", "--all-jobs"], 0, "Killed 0 jobs.", ""),
    (["kill"], 1, "", "Aborted!"),
    (["jobs", "purge", "--job-id", "999"], 0, "No job found with job_id=999.", ""),
    (
        ["cache", "purge", "pwm_locks", "17", "--as-int"],
        0,
        "No entry for key 17 found in cache 'pwm_locks'.",
        "",
    ),
    (
        ["run", "dosing_automation", "--automation-name", "nosuch"],
        1,
        "",
        "Unable to find nosuch. Available automations are "
        "['chemostat', 'fed_batch', 'pid_morbidostat', 'silent', 'turbidostat']",
    ),
    (
        ["run", "dosing_automation", "--automation-name", "chemostat", "--volume", "1"],
        1,
        "",
        "Chemostat.__init__() missing 1 required positional argument: 'exchange_volume_ml'",
    ),
    (
        ["run", "dosing_automation", "--automation-name", "pid_morbidostat", "--duration", "5"],
        1,
        "",
        "PIDMorbidostat.__init__() missing 2 required positional arguments: "
        "'target_growth_rate' and 'target_normalized_od'",
    ),
    (
        ["run", "led_automation", "--automation-name", "light_dark_cycle"],
        1,
        "",
        "LightDarkCycle.__init__() missing 3 required positional arguments: "
        "'light_intensity', 'light_duration_minutes', and 'dark_duration_minutes'",
    ),
    (
        ["run", "temperature_automation", "--automation-name", "thermostat"],
        1,
        "",
        "missing 1 required positional argument: 'target_temperature'",
    ),
]


def test_command_line_errors_and_one_shots(tmp_path: Path, mqtt_broker: Broker) -> None:
    impls = ["sim"]
    reason = real_pio_unavailable_reason()
    if reason is None:
        impls.append("real")
    seen: dict[str, dict[str, str]] = {}
    for impl in impls:
        with pio_unit(impl, tmp_path / impl, f"cli-{impl}", "cli-exp", mqtt_broker) as unit:
            seen[impl] = {}
            for argv, code, needle in USAGE_ERRORS:
                done = unit.cli(*argv)
                assert (done.returncode, done.stdout) == (code, ""), (impl, argv, done.stderr)
                assert needle in done.stderr, (impl, argv, done.stderr)
                assert done.stderr.startswith("Usage: pio "), (impl, argv, done.stderr)
                seen[impl][" ".join(argv)] = done.stderr
            for argv, code, out, err in ONE_SHOTS:
                done = unit.cli(*argv)
                assert done.returncode == code, (impl, argv, done.stdout, done.stderr[-2000:])
                assert done.stdout.strip() == out, (impl, argv, done.stdout)
                assert err in done.stderr, (impl, argv, done.stderr[-2000:])
            assert unit.registry("dosing_automation") == []  # refused before anything was registered
    if "real" not in seen:
        pytest.skip(f"compared pio-sim only: {reason}")
    assert seen["sim"] == seen["real"]  # usage errors: identical text


def test_no_broker_fails_fast_with_exit_1(impl: str, tmp_path: Path) -> None:
    make = make_real_unit if impl == "real" else make_sim_unit
    pio = make(tmp_path / "unit", f"nobroker-{impl}", "127.0.0.1", free_port())  # nothing listens there
    done = subprocess.run([str(pio), "run", "stirring"], capture_output=True, text=True, timeout=30)
    assert done.returncode == 1
    with sqlite3.connect(unit_paths(tmp_path / "unit").registry) as conn:
        rows = conn.execute("SELECT is_running, ended_at FROM pio_job_metadata").fetchall()
    assert len(rows) == 1 and rows[0][0] == 0 and rows[0][1]  # registered, then ended: no stale row

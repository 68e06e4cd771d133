"""Direct comparison: the same start/stop of every job the agent uses, on pio-sim and on real pio.

What must be equal: the $state sequence, which settings are retained once ready (and that a stop
clears them), the settings mirrored in the registry's pio_job_published_settings, SIGTERM's exit
code, and the INFO-and-above log messages (digits masked: values such as a heater's duty cycle differ
between a simulation and mocked hardware)."""

from __future__ import annotations

import json
import re
import signal
from pathlib import Path
from typing import Any

import pytest

from devcluster.broker import Broker
from devcluster.procs import wait_for
from devcluster.units import real_pio_unavailable_reason

from .unit import PioUnit, pio_unit

UNIVERSAL = "$experiment"
# started in this order, each once the previous one is ready (so "is stirring running?" warnings agree)
JOBS: list[tuple[str, tuple[str, ...], str | None]] = [
    ("stirring", (), None),
    ("od_reading", (), None),
    ("growth_rate_calculating", (), None),
    ("temperature_automation", ("--automation-name", "thermostat", "--target-temperature", "30"), None),
    ("dosing_automation", ("--automation-name", "silent"), None),
    ("led_automation", ("--automation-name", "silent"), None),
    ("monitor", (), UNIVERSAL),
]
# readings that arrive on their own schedule; whether one has landed by `ready` is timing, not behaviour
TIMED = {"ods", "od2", "relative_intensity_of_ir_led", "measured_rpm", "computer_statistics", "temperature"}
TIMED |= {"latest_event", "heater_duty_cycle", "wlan_mac_address", "eth_mac_address"}


def _mask(message: str) -> str:
    return re.sub(r"\d+(\.\d+)?", "#", message)


def _run_all(unit: PioUnit) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    procs = []
    for job, args, exp in JOBS:
        procs.append((job, exp, unit.start_ready(job, *args, experiment=exp)))
    wait_for(
        lambda: "temperature" in unit.retained_settings("temperature_automation"), 15, what="a temperature"
    )
    vial = f"pioreactor/{unit.unit}/{unit.experiment}/bioreactor/"
    seen["bioreactor"] = sorted(
        (t.removeprefix(vial), *sorted(json.loads(v)))
        for t, v in unit.retained().items()
        if t.startswith(vial)
    )
    for job, exp, _ in procs:
        seen[f"{job} retained at ready"] = sorted(set(unit.retained_settings(job, exp)) - TIMED)
        seen[f"{job} registry settings at ready"] = sorted(set(unit.registry_settings(job)) - TIMED)
    for job, exp, proc in reversed(procs):
        proc.kill(signal.SIGTERM)
        seen[f"{job} exit"] = unit.exited(proc)
        seen[f"{job} states"] = unit.states(job, exp)
        seen[f"{job} registry settings after stop"] = sorted(unit.registry_settings(job))
    for job, exp, _ in procs:
        wait_for(
            lambda j=job, e=exp: set(unit.retained_settings(j, e)) == {"$state"}, 10, what=f"{job} cleared"
        )
    for job, exp, _ in procs:
        prefix = f"pioreactor/{unit.unit}/{exp or unit.experiment}"
        logs = [e for e in unit.observer.logs(prefix) if e["task"] == job and e["level"] != "DEBUG"]
        seen[f"{job} logs"] = sorted({(e["level"], _mask(e["message"])) for e in logs})
    return seen


@pytest.mark.real_pio
def test_every_job_starts_and_stops_like_real_pio(tmp_path: Path, mqtt_broker: Broker) -> None:
    reason = real_pio_unavailable_reason()
    if reason:
        pytest.skip(reason)
    results = {}
    for impl in ("sim", "real"):
        with pio_unit(impl, tmp_path / impl, f"cmp-{impl}", "cmp-exp", mqtt_broker) as unit:
            results[impl] = _run_all(unit)
    sim, real = results["sim"], results["real"]
    assert real["stirring states"] == ["init", "ready", "disconnected"]
    assert real["stirring exit"] == 0
    assert [name for name, *_ in real["bioreactor"]] == [
        "alt_media_fraction",
        "current_volume_ml",
        "efflux_tube_volume_ml",
    ]
    assert {k: sim[k] for k in sorted(real)} == {k: real[k] for k in sorted(real)}

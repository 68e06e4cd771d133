"""`pio run self_test` as a control plane sees it, against pio-sim and the real pio (testing mode).

Real pio 26.11.1 runs the self-test under `$experiment` whatever EXPERIMENT says; it clears each check's
retained result, publishes `1`/`0` per check as it finishes and `all_tests_passed` at the end (all
retained, never cleared), and exits 0 even when checks fail. `-k` picks checks by substring.
"""

from __future__ import annotations

import configparser
from pathlib import Path

from devcluster.broker import Broker
from devcluster.procs import wait_for
from unit_agent.sim.self_test import CHECKS

from .unit import PioUnit, pio_unit

UNIVERSAL = "$experiment"


def set_config(unit: PioUnit, section: str, key: str, value: str) -> None:
    cfg = configparser.ConfigParser(interpolation=None)
    cfg.optionxform = str  # type: ignore[assignment,method-assign]
    cfg.read(unit.paths.config)
    if not cfg.has_section(section):
        cfg.add_section(section)
    cfg[section][key] = value
    with open(unit.paths.config, "w") as fh:
        cfg.write(fh)


def _run(unit: PioUnit, *args: str, timeout: float = 60) -> tuple[int, str]:
    proc = unit.start("self_test", *args)
    code = unit.exited(proc, timeout)
    return code, proc.output()


def test_one_check_passes_under_the_universal_experiment(unit: PioUnit) -> None:
    code, output = _run(unit, "-k", "HAT_present")
    assert code == 0, output
    obs = unit.observer
    check = unit.topic("self_test", "test_pioreactor_HAT_present", UNIVERSAL)
    # cleared first (an empty retained payload), then the outcome
    assert [m.payload for m in obs.live(check)] == ["", "1"]
    assert [m.payload for m in obs.live(unit.topic("self_test", "all_tests_passed", UNIVERSAL))] == ["1"]
    assert unit.states("self_test", UNIVERSAL) == ["init", "ready", "disconnected"]
    assert unit.states("self_test") == []  # never under EXPERIMENT
    prefix = f"pioreactor/{unit.unit}/{UNIVERSAL}"
    assert obs.wait_log(prefix, "Starting self-test. Running 1 tests.")["task"] == "self_test"
    obs.wait_log(prefix, "All tests passed ✅")
    # results outlive the job: a page opened later still finds them
    kept = unit.retained_settings("self_test", UNIVERSAL)
    assert kept == {"$state": "disconnected", "test_pioreactor_HAT_present": "1", "all_tests_passed": "1"}
    (row,) = unit.registry("self_test")
    assert (row["experiment"], row["is_running"]) == (UNIVERSAL, 0)


def test_refuses_while_stirring_runs(unit: PioUnit) -> None:
    stirring = unit.start_ready("stirring")
    code, output = _run(unit, "-k", "HAT_present")
    assert code == 1
    assert "Aborted!" in output
    error = unit.observer.wait_log(
        f"pioreactor/{unit.unit}/{UNIVERSAL}",
        "Make sure Optical Density, any automations, and Stirring are off",
    )
    assert error["level"] == "ERROR"
    assert unit.topic("self_test", "all_tests_passed", UNIVERSAL) not in {
        m.topic for m in unit.observer.live()
    }
    assert stirring.alive()


def test_sim_runs_real_pios_checks_in_order_and_a_configured_one_fails(
    tmp_path: Path, mqtt_broker: Broker
) -> None:
    with pio_unit("sim", tmp_path / "u", "sim-selftest", "exp-st", mqtt_broker, speed=600) as unit:
        set_config(unit, "pio_sim", "self_test_failures", "test_detect_heating_pcb")
        code, output = _run(unit)
        assert code == 0, output  # failures do not change the exit code, as in real pio
        head = f"pioreactor/{unit.unit}/{UNIVERSAL}/self_test/"
        outcomes = [
            (m.topic.removeprefix(head), m.payload)
            for m in unit.observer.live()
            if m.topic.startswith(head + "test_") and m.payload
        ]
        assert [name for name, _ in outcomes] == [name for name, _, _ in CHECKS]
        assert dict(outcomes)["test_detect_heating_pcb"] == "0"
        assert {v for name, v in outcomes if name != "test_detect_heating_pcb"} == {"1"}
        assert unit.observer.values(head + "all_tests_passed") == ["0"]
        assert unit.observer.values(head + "correlations_between_pds_and_leds") == [
            '[["IR", "90"], ["IR", "REF"]]'
        ]
        warning = unit.observer.wait_log(f"pioreactor/{unit.unit}/{UNIVERSAL}", "test detect heating pcb: ")
        assert warning["level"] == "WARNING"
        unit.observer.wait_log(f"pioreactor/{unit.unit}/{UNIVERSAL}", "1 failed test ❌")

        # --retry-failed runs only what failed last time
        set_config(unit, "pio_sim", "self_test_failures", "")
        code, output = _run(unit, "--retry-failed")
        assert code == 0, output
        unit.observer.wait_log(f"pioreactor/{unit.unit}/{UNIVERSAL}", "Starting self-test. Running 1 tests.")
        wait_for(lambda: unit.observer.values(head + "all_tests_passed") == ["0", "1"], 10, what="a pass")

"""`pio run self_test`: real pio's hardware self-test (26.11.1), simulated.

Like real pio it runs under the experiment `$experiment` whatever EXPERIMENT says, goes init -> ready,
clears the retained result of every check it is about to run (an empty payload), then runs the checks in
real pio's order and publishes each outcome as it finishes on
`pioreactor/<unit>/$experiment/self_test/<check>` (retained, `1` passed, `0` failed), with
`correlations_between_pds_and_leds` (a JSON list of [LED, PD] pairs) after the LED/photodiode check and
`all_tests_passed` (`1`/`0`) at the end. Results stay retained after the job ends (never cleared), and
the process exits 0 whether checks failed or not. A failed check logs a WARNING naming it. It refuses,
with real pio's ERROR and exit 1, while od_reading, stirring or an automation runs.

Differences: no hardware is touched; every check passes unless named in config.ini's
`[pio_sim] self_test_failures` (comma-separated check names, or `all`), which makes it fail with a
plausible message. Each check takes a sixth of the time real pio takes on a unit (about 11 s for all at
PIO_SIM_SPEED 1), divided by PIO_SIM_SPEED and at least 0.25 s, so a page can still watch it progress.
"""

from __future__ import annotations

import json
import signal
import threading
from typing import Any

from .env import UNIVERSAL_EXPERIMENT
from .job import Job
from .values import Setting

# (check, seconds real pio takes on a unit, the message a failure logs) in real pio's order
CHECKS: tuple[tuple[str, float, str], ...] = (
    ("test_pioreactor_HAT_present", 0.1, "HAT is not connected"),
    (
        "test_all_positive_correlations_between_pds_and_leds",
        6.0,
        "missing IR LED to PD correlations:\n[('A', '2', 0.12)]",
    ),
    ("test_ambient_light_interference", 0.2, "Dark signal too high"),
    ("test_dark_offset_correction_is_effective", 1.5, "Dark offset correction for pd2 is too noisy"),
    (
        "test_REF_is_lower_than_0_dot_256_volts",
        1.5,
        "Recorded 1.412 in REF, should ideally be between 0.001 and 1.0. Current IR LED: 80.0%.",
    ),
    ("test_REF_is_in_correct_position", 23.0, "REF is too disturbed by stirring."),
    ("test_PD_is_near_0_volts_for_blank", 6.0, "Blank signal too high for pd2"),
    ("test_detect_heating_pcb", 0.1, "Heater PCB is not connected, or i2c is not working."),
    (
        "test_positive_correlation_between_temperature_and_heating",
        19.0,
        "Temp and DC% correlation was not high enough",
    ),
    ("test_positive_correlation_between_rpm_and_stirring", 7.0, "RPM correlation not high enough"),
    ("test_aux_power_is_not_too_high", 0.1, "Voltage measured 19.2 > 18.0V"),
)
PD_LED = "test_all_positive_correlations_between_pds_and_leds"
BLOCKING_JOBS = ("od_reading", "temperature_automation", "stirring", "dosing_automation", "led_automation")
SPEEDUP = 6.0  # the simulator's checks against real pio's
SHORTEST = 0.25


class SelfTest(Job):
    name = "self_test"

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.experiment = UNIVERSAL_EXPERIMENT  # real pio ignores EXPERIMENT for the self-test

    def failing(self) -> set[str]:
        raw = self.env.config.get("pio_sim", "self_test_failures", fallback="")
        names = {n.strip() for n in raw.split(",") if n.strip()}
        return {c for c, _, _ in CHECKS} if "all" in names else names

    def chosen(self) -> list[tuple[str, float, str]]:
        k = self.options.get("k")
        checks = [c for c in CHECKS if not k or k in c[0]]
        if self.options.get("retry_failed"):
            before = self._previous()
            checks = [c for c in checks if before.get(c[0]) == "0"]
        return checks

    def _previous(self) -> dict[str, str]:
        path = self.env.dot_pioreactor / "storage" / "sim_self_test_results.json"
        return json.loads(path.read_text()) if path.is_file() else {}

    def _remember(self, check: str, passed: bool) -> None:
        # real pio keeps the outcomes in its persistent cache (for --retry-failed)
        path = self.env.dot_pioreactor / "storage" / "sim_self_test_results.json"
        kept = self._previous() | {check: str(int(passed))}
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(kept))

    def publish(self, setting: str, value: Any) -> None:
        # results outlive the job (real pio never clears them): persistent settings
        self.spec[setting] = Setting("integer", False, persist=True)
        self.set(setting, value)

    def after_ready(self) -> None:
        threading.Thread(target=self._work, name="self_test-work", daemon=True).start()

    def _work(self) -> None:
        try:
            blocking = [job for job in BLOCKING_JOBS if self.running(job)]
            if blocking:
                self.log(
                    "ERROR",
                    "Make sure Optical Density, any automations, and Stirring are off before running a self "
                    "test. Exiting.",
                )
                self._request_stop(signal.SIGINT)  # real pio aborts: "Aborted!", exit 1
                return
            self._run_checks()
            self._request_stop("done")
        except Exception as e:
            self.log("ERROR", str(e))
            self._request_stop("done")

    def _run_checks(self) -> None:
        checks = self.chosen()
        self.log("INFO", f"Starting self-test. Running {len(checks)} tests.")
        for check, _, _ in checks:
            self.publish(check, None)
            if check == PD_LED:
                self.publish("correlations_between_pds_and_leds", None)
        failing = self.failing()
        failed: list[str] = []
        for check, seconds, message in checks:
            if self._stop.is_set():
                self.log("INFO", "Self-test interrupted, stopping remaining tests.")
                return
            self.log("DEBUG", f"Starting test {check}...")
            if self._stop.wait(max(seconds / SPEEDUP / self.env.speed, SHORTEST)):
                self.log("INFO", "Self-test interrupted, stopping remaining tests.")
                return
            passed = check not in failing
            if check == PD_LED:
                pairs = [["IR", "90"], ["IR", "REF"]] if passed else [["IR", "REF"]]
                self.publish("correlations_between_pds_and_leds", json.dumps(pairs))
            if not passed:
                failed.append(check)
                self.log("WARNING", f"{check.replace('_', ' ')}: {message}")
            self.log("DEBUG", f"{check}: {'✅' if passed else '❌'}")
            self.publish(check, int(passed))
            self._remember(check, passed)
        self.publish("all_tests_passed", int(not failed))
        if not checks:
            self.log("INFO", "No tests ran 🟡")
        elif not failed:
            self.log("INFO", "All tests passed ✅")
        else:
            self.log("INFO", f"{len(failed)} failed test{'s' if len(failed) > 1 else ''} ❌")
            self.log("DEBUG", "Failed tests:\n      " + "\n      ".join(failed))

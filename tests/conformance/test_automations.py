"""Automations, monitor, growth rate and `pio kill` filters, run against pio-sim and the real pio."""

from __future__ import annotations

import json
import signal

from devcluster.procs import wait_for

from .unit import PioUnit

UNIVERSAL = "$experiment"


def test_automations_monitor_and_kill_filters(unit: PioUnit) -> None:
    obs, prefix = unit.observer, unit.prefix
    temp = unit.start_ready(
        "temperature_automation", "--automation-name", "thermostat", "--target-temperature", "30"
    )
    assert obs.wait_log(prefix, "Starting thermostat.")["level"] == "INFO"
    warning = obs.wait_log(prefix, "It's recommended to have stirring on when using the thermostat.")
    assert warning["level"] == "WARNING"
    wait_for(
        lambda: "temperature" in unit.retained_settings("temperature_automation"), 15, what="a temperature"
    )
    settings = unit.retained_settings("temperature_automation")
    assert settings["automation_name"] == "thermostat"
    assert settings["target_temperature"] == "30.0"
    assert set(json.loads(settings["temperature"])) == {"timestamp", "temperature"}
    assert {"$state", "heater_duty_cycle"} <= set(settings)

    unit.publish("temperature_automation", "target_temperature", "35")
    obs.wait_value(unit.topic("temperature_automation", "target_temperature"), "35.0")
    obs.wait_log(prefix, "Updated target_temperature from 30.0 ℃ to 35.0 ℃.")
    unit.publish("temperature_automation", "automation_name", "silent")
    obs.wait_log(
        prefix, "Unable to set `automation_name` in temperature_automation. `automation_name` is read-only."
    )

    led = unit.start_ready("led_automation", "--automation-name", "silent")
    obs.wait_log(prefix, "Starting silent.")
    assert unit.retained_settings("led_automation")["automation_name"] == "silent"

    monitor = unit.start_ready("monitor", experiment=UNIVERSAL)
    universal = f"pioreactor/{unit.unit}/{UNIVERSAL}"
    assert obs.wait_log(universal, "Online and ready.")["level"] == "NOTICE"
    versions = json.loads(unit.retained_settings("monitor", UNIVERSAL)["versions"])
    assert versions["app"] == "26.11.1"
    (row,) = unit.registry("monitor")
    assert (row["experiment"], row["is_long_running_job"], row["is_running"]) == (UNIVERSAL, 1, 1)

    # kill filters: another experiment, name+source, then --all-jobs, which spares long-running jobs
    none = unit.cli("kill", "--experiment", "some-other-experiment")
    assert (none.returncode, none.stdout.strip()) == (0, "Killed 0 jobs.")
    one = unit.cli("kill", "--job-name", "led_automation", "--job-source", "user")
    assert one.stdout.strip() == "Killed 1 job."
    assert unit.exited(led) == 1
    rest = unit.cli("kill", "--all-jobs")
    assert rest.stdout.strip() == "Killed 1 job."
    assert unit.exited(temp) == 1
    assert monitor.alive()
    by_id = unit.cli("kill", "--job-id", str(row["job_id"]))
    assert by_id.stdout.strip() == "Killed 1 job."
    assert unit.exited(monitor) == 1

    assert unit.states("monitor", UNIVERSAL) == [
        "init",
        "ready",
        "ready",
        "disconnected",
    ]  # it says ready twice
    for job, exp in (("temperature_automation", None), ("led_automation", None), ("monitor", UNIVERSAL)):
        assert unit.states(job, exp)[-1] == "disconnected", job
        assert unit.states(job, exp)[:2] == ["init", "ready"], job
        wait_for(
            lambda j=job, e=exp: unit.retained_settings(j, e) == {"$state": "disconnected"}, 10, what=job
        )  # type: ignore[misc]
        assert [r["is_running"] for r in unit.registry(job)] == [0]


def test_growth_rate_calculating_lifecycle(unit: PioUnit) -> None:
    od = unit.start_ready("od_reading")
    gr = unit.start_ready("growth_rate_calculating")
    log = unit.observer.wait_log(
        unit.prefix, "Collecting warmup OD observations for growth-rate initialization."
    )
    assert log["level"] == "INFO"
    settings = unit.retained_settings("growth_rate_calculating")
    assert settings == {"$state": "ready"}  # nothing to publish until warmed up
    unit.publish("growth_rate_calculating", "growth_rate", "1")
    unit.observer.wait_log(
        unit.prefix, "Unable to set `growth_rate` in growth_rate_calculating. `growth_rate` is read-only."
    )
    unit.publish("growth_rate_calculating", "$state", "disconnected")
    assert unit.exited(gr) == 0
    od.kill(signal.SIGHUP)  # an ssh session closing: a clean stop, exit 0
    assert unit.exited(od) == 0
    unit.observer.wait_log(unit.prefix, "Exiting caused by signal Hangup.")
    assert unit.states("growth_rate_calculating") == ["init", "ready", "disconnected"]
    assert unit.states("od_reading") == ["init", "ready", "disconnected"]
    assert set(unit.retained_settings("od_reading")) == {"$state"}

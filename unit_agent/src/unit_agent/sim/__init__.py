"""`pio-sim`: a stand-in for the real `pio` (Pioreactor 26.11.1) on a machine without Pioreactor hardware.

It implements the part of `pio` a unit agent uses, with the real tool's arguments, output, exit codes,
MQTT topics and payloads, and job registry; `tests/conformance` runs the same scenarios against both.

    pio-sim run stirring [--target-rpm 500 ...]       (also od_reading, growth_rate_calculating, monitor,
    pio-sim run temperature_automation --automation-name thermostat --target-temperature 30
    pio-sim run dosing_automation --automation-name chemostat --duration 20 --exchange-volume-ml 0.5
    pio-sim run led_automation --automation-name silent
    pio-sim run self_test [-k NAME] [--retry-failed]   (the hardware self-test under `$experiment`)
    pio-sim kill --job-name stirring | --experiment E | --job-source S | --job-id N | --all-jobs
    pio-sim jobs list [running] | jobs set JOB SETTING VALUE | jobs purge --job-id N | jobs info --job-id N
    pio-sim version | plugins list [--json] | calibrations list

Configuration - read exactly where real pio reads it:
    GLOBAL_CONFIG     config.ini ([mqtt] broker_address, broker_port; [storage] temporary_cache; job sections)
    DOT_PIOREACTOR    default home of config.ini and storage/ (default ~/.pioreactor)
    HOSTNAME          the unit name;  EXPERIMENT  the experiment (default `_testing_experiment`)
    JOB_SOURCE        recorded in the registry (default `user`)
    PIO_SIM_SPEED     simulated seconds per wall second for the culture, OD sampling and automation
                      schedules (default 1; e.g. 600 shows a whole growth curve in about two minutes)
    PIO_SIM_MIN_INTERVAL  fewest wall seconds between readings/automation runs (default 0.5): at high
                      speeds the simulation samples coarser rather than flood the broker

Behaviour kept identical to real pio: `run` stays in the foreground; $state init -> ready (retained,
last will `lost`); settings retained and cleared with an empty payload on a clean stop; logs on
pioreactor/<unit>/<exp>/logs/app/<level>; `…/<setting>/set` echoes and logs `Updated x from a to b.`
(warnings for read-only and invalid values); `$state/set` sleeping|ready|disconnected; exit codes:
SIGTERM/SIGHUP/`$state/set disconnected` 0, SIGINT/`pio kill` 1 ("Aborted!"), SIGKILL 137 with the
registry row left running (the next run fails with JobPresentError until `pio jobs purge`), job already
running 1, bad arguments 2. The registry is real pio's SQLite file and tables.

Differences: runs without a config.ini (defaults: broker localhost:1883, storage in DOT_PIOREACTOR),
no hardware actions (add_media, led_intensity...), no calibrations or plugins, growth rate
from a windowed regression instead of real pio's EKF, and automations need no pump calibration.
"""

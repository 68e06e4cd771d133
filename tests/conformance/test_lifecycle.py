"""Job lifecycle as a control plane sees it: states, retained settings, logs, setting changes, exit codes.

Each scenario runs against pio-sim and the real pio; both must meet the same concrete expectations.
"""

from __future__ import annotations

import json
import signal
from pathlib import Path

from devcluster.broker import Broker
from devcluster.procs import wait_for

from .unit import PioUnit, pio_unit

STIRRING_SETTINGS = {"target_rpm", "measured_rpm", "duty_cycle", "enable_dodging_od", "currently_dodging_od"}


def test_stirring_lifecycle_settings_and_sigterm(unit: PioUnit) -> None:
    proc = unit.start_ready("stirring")
    obs, prefix = unit.observer, unit.prefix
    assert unit.states("stirring") == ["init", "ready"]
    obs.wait_log(prefix, "Ready.")
    init = obs.wait_log(prefix, "Init.")
    assert (init["source"], init["task"], init["level"]) == ("app", "stirring", "DEBUG")
    assert set(init) == {"source", "task", "message", "level", "timestamp"}

    # retained settings: exactly the job's published settings, with real pio's value formats
    wait_for(
        lambda: set(unit.retained_settings("stirring")) >= STIRRING_SETTINGS, 10, what="retained settings"
    )
    settings = unit.retained_settings("stirring")
    assert set(settings) == STIRRING_SETTINGS | {"$state"}
    assert settings["$state"] == "ready"
    assert settings["target_rpm"] == "500.0"
    assert settings["enable_dodging_od"] == "False"
    assert set(json.loads(settings["measured_rpm"])) == {"measured_rpm", "timestamp"}

    # the registry a control plane reads, and `pio jobs list running`
    (row,) = unit.registry("stirring")
    assert (row["is_running"], row["ended_at"], row["pid"]) == (1, None, proc.pid)
    assert (row["unit"], row["experiment"], row["job_source"]) == (unit.unit, unit.experiment, "user")
    listed = unit.cli("jobs", "list", "running")
    assert listed.returncode == 0
    assert (
        f"[job_id={row['job_id']}] stirring experiment={unit.experiment}, source=user, pid={proc.pid},"
        in (listed.stdout)
    )
    assert listed.stdout.rstrip().endswith("ended_at=still running")

    # setting changes: echo + log; invalid and read-only values warn and change nothing
    unit.publish("stirring", "target_rpm", "700")
    obs.wait_value(unit.topic("stirring", "target_rpm"), "700.0")
    assert obs.wait_log(prefix, "Updated target_rpm from 500.0 RPM to 700.0 RPM.")["level"] == "INFO"
    unit.publish("stirring", "target_rpm", "fast")
    bad = obs.wait_log(
        prefix, "Unable to set `target_rpm` in stirring. Payload is not valid for datatype `float`."
    )
    unit.publish("stirring", "measured_rpm", "5")
    ro = obs.wait_log(prefix, "Unable to set `measured_rpm` in stirring. `measured_rpm` is read-only.")
    assert (bad["level"], ro["level"]) == ("WARNING", "WARNING")
    assert obs.values(unit.topic("stirring", "target_rpm"))[-1] == "700.0"
    done = unit.cli("jobs", "set", "stirring", "target_rpm", "650")
    assert done.returncode == 0
    obs.wait_value(unit.topic("stirring", "target_rpm"), "650.0")
    obs.wait_log(prefix, "Updated target_rpm from 700.0 RPM to 650.0 RPM.")

    # sleeping and back
    unit.publish("stirring", "$state", "sleeping")
    obs.wait_value(unit.topic("stirring", "$state"), "sleeping")
    obs.wait_log(prefix, "Updated state from ready to sleeping.")
    unit.publish("stirring", "$state", "ready")
    wait_for(
        lambda: unit.states("stirring") == ["init", "ready", "sleeping", "ready"], 10, what="ready again"
    )
    obs.wait_log(prefix, "Updated state from sleeping to ready.")

    # one job of each name per unit
    again = unit.cli("run", "stirring")
    assert again.returncode == 1
    assert f"stirring is already running (job_id={row['job_id']}). Skipping." in again.stderr
    warning = obs.wait_log(prefix, f"stirring is already running (job_id={row['job_id']}). Skipping.")
    assert warning["level"] == "WARNING"
    assert proc.alive()

    # SIGTERM: exit 0, disconnected, non-persistent settings cleared, registry row ended
    proc.kill(signal.SIGTERM)
    assert unit.exited(proc) == 0
    assert unit.states("stirring") == ["init", "ready", "sleeping", "ready", "disconnected"]
    assert obs.wait_log(prefix, "Disconnected.")["level"] == "INFO"
    obs.wait_log(prefix, "Exiting caused by signal Terminated.")
    wait_for(
        lambda: unit.retained_settings("stirring") == {"$state": "disconnected"}, 10, what="cleared settings"
    )
    (row,) = unit.registry("stirring")
    assert row["is_running"] == 0 and row["ended_at"]
    assert unit.cli("jobs", "list", "running").stdout.strip() == "No jobs recorded."


def test_od_reading_readings_and_pio_kill(unit: PioUnit) -> None:
    proc = unit.start_ready("od_reading")
    obs = unit.observer
    ods_topic = unit.topic("od_reading", "ods")
    wait_for(lambda: obs.values(ods_topic), 15, what="an OD reading")
    reading = json.loads(obs.values(ods_topic)[0])
    assert set(reading) == {"timestamp", "ods"}
    assert set(reading["ods"]["2"]) == {
        "calibrated",
        "timestamp",
        "angle",
        "od",
        "channel",
        "ir_led_intensity",
    }
    assert reading["ods"]["2"]["angle"] == "90" and reading["ods"]["2"]["channel"] == "2"
    assert isinstance(reading["ods"]["2"]["od"], float) and reading["ods"]["2"]["od"] > 0
    wanted = {"$state", "ods", "od2", "first_od_obs_time", "interval", "ir_led_intensity"}
    wait_for(lambda: set(unit.retained_settings("od_reading")) >= wanted, 10, what="od_reading settings")
    settings = unit.retained_settings("od_reading")
    assert settings["interval"] == "5.0"
    assert settings["ir_led_intensity"] == "85.0"

    # interval is settable, first_od_obs_time is not; a state that does not exist is an error
    unit.publish("od_reading", "interval", "2")
    obs.wait_value(unit.topic("od_reading", "interval"), "2.0")
    obs.wait_log(unit.prefix, "Updated interval from 5.0 s to 2.0 s.")
    unit.publish("od_reading", "$state", "foo")
    assert obs.wait_log(unit.prefix, "saw foo: not a valid state")["level"] == "ERROR"
    unit.publish("od_reading", "first_od_obs_time", "1")
    unit.observer.wait_log(
        unit.prefix, "Unable to set `first_od_obs_time` in od_reading. `first_od_obs_time` is read-only."
    )

    # `pio kill` sends SIGINT: the job ends with exit 1 and click's "Aborted!"
    killed = unit.cli("kill", "--job-name", "od_reading")
    assert (killed.returncode, killed.stdout.strip()) == (0, "Killed 1 job.")
    assert unit.exited(proc) == 1
    assert "Aborted!" in proc.output()
    assert unit.states("od_reading")[-1] == "disconnected"
    obs.wait_log(unit.prefix, "Exiting caused by signal Interrupt.")
    again = unit.cli("kill", "--job-name", "od_reading")
    assert (again.returncode, again.stdout.strip()) == (0, "Killed 0 jobs.")
    assert unit.registry("od_reading")[0]["is_running"] == 0


def test_sigkill_leaves_lost_and_a_stale_row_until_purged(unit: PioUnit) -> None:
    proc = unit.start_ready("stirring")
    proc.kill(signal.SIGKILL)
    assert unit.exited(proc) == -signal.SIGKILL
    unit.observer.wait_value(unit.topic("stirring", "$state"), "lost")
    assert unit.retained_settings("stirring")["$state"] == "lost"
    assert "target_rpm" in unit.retained_settings("stirring")  # nobody cleared it

    (row,) = unit.registry("stirring")
    assert (row["is_running"], row["ended_at"]) == (1, None)
    assert f"[job_id={row['job_id']}] stirring" in unit.cli("jobs", "list", "running").stdout
    # `pio kill` still counts the stale row; signalling its dead pid fails and the row stays
    ghost = unit.cli("kill", "--job-name", "stirring")
    assert (ghost.returncode, ghost.stdout.strip()) == (0, "Killed 1 job.")
    assert f"({proc.pid}): No such process" in ghost.stderr
    assert unit.registry("stirring")[0]["is_running"] == 1
    stale = unit.cli("run", "stirring")
    assert stale.returncode == 1
    assert f"stirring is already running (job_id={row['job_id']}). Skipping." in stale.stderr

    purged = unit.cli("jobs", "purge", "--job-id", str(row["job_id"]))
    assert (purged.returncode, purged.stdout.strip()) == (0, f"Removed job record {row['job_id']}.")
    assert unit.registry("stirring") == []

    # the dead job's PWM lock is still there: the next start fails cleanly (init -> disconnected, exit 1)
    locked = unit.cli("run", "stirring")
    assert locked.returncode == 1
    assert "PWMError: GPIO-17 is currently locked" in locked.stderr
    error = unit.observer.wait_log(unit.prefix, "GPIO-17 is currently locked but a task is overwriting it.")
    assert error["level"] == "ERROR"
    assert "pio cache purge pwm_locks 17 --as-int" in error["message"]
    wait_for(lambda: unit.states("stirring")[-2:] == ["init", "disconnected"], 10, what="init, disconnected")
    assert [r["is_running"] for r in unit.registry("stirring")] == [0]
    freed = unit.cli("cache", "purge", "pwm_locks", "17", "--as-int")
    assert (freed.returncode, freed.stdout.strip()) == (0, "Removed key 17 from cache 'pwm_locks'.")

    # now the job starts again (with a config override, as the agent passes them); MQTT stop exits 0
    proc = unit.start_ready(
        "stirring", run_options=("--config-override", "stirring.config", "initial_target_rpm", "444")
    )
    assert unit.retained_settings("stirring")["target_rpm"] == "444.0"
    unit.publish("stirring", "$state", "disconnected")
    assert unit.exited(proc) == 0
    unit.observer.wait_log(unit.prefix, "Updated state from ready to disconnected.")
    assert unit.states("stirring") == [
        "init",
        "ready",
        "lost",
        "init",
        "disconnected",
        "init",
        "ready",
        "disconnected",
    ]


def test_job_survives_a_broker_restart(impl: str, tmp_path: Path, fresh_broker: Broker) -> None:
    with pio_unit(impl, tmp_path / "unit", f"restart-{impl}", "exp-restart", fresh_broker) as unit:
        proc = unit.start_ready("stirring")
        fresh_broker.restart()
        target = unit.topic("stirring", "target_rpm")

        def echoed() -> bool:  # re-sent until the job has reconnected and re-subscribed
            if unit.observer.client.is_connected():
                unit.observer.client.publish(target + "/set", "640", qos=1)
            return "640.0" in unit.observer.values(target)

        # real pio reconnects with its own backoff (up to ~60 s between tries on a loaded machine)
        wait_for(echoed, 120, 0.5, what="a setting change after the broker restart")
        assert unit.retained_settings("stirring")["$state"] == "ready"
        proc.kill(signal.SIGTERM)
        assert unit.exited(proc) == 0

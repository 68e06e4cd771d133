"""pio-sim end to end on a real broker: a growth curve a control plane can chart, dosing, start-up time."""

from __future__ import annotations

import configparser
import json
import statistics
import time
from pathlib import Path

from devcluster.broker import Broker
from devcluster.procs import wait_for
from tests.conformance.unit import PioUnit, pio_unit


def _set_config(unit: PioUnit, section: str, key: str, value: str) -> None:
    cfg = configparser.ConfigParser()
    cfg.optionxform = str  # type: ignore[assignment,method-assign]
    cfg.read(unit.paths.config)
    cfg[section][key] = value
    with open(unit.paths.config, "w") as fh:
        cfg.write(fh)


def _series(unit: PioUnit, job: str, setting: str) -> list[dict]:
    return [json.loads(v) for v in unit.observer.values(unit.topic(job, setting))]


def test_growth_rate_rises_and_falls_like_a_culture(tmp_path: Path, mqtt_broker: Broker) -> None:
    # 6000x: 5 simulated minutes between readings, a whole batch culture in ~8 s
    with pio_unit("sim", tmp_path / "u", "sim-growth", "exp-growth", mqtt_broker, speed=6000) as unit:
        _set_config(unit, "growth_rate_calculating.config", "samples_for_od_statistics", "6")
        unit.env["PIO_SIM_MIN_INTERVAL"] = "0.05"
        unit.start_ready("od_reading")
        unit.start_ready("growth_rate_calculating")

        def rose_and_fell() -> bool:
            rates = [p["growth_rate"] for p in _series(unit, "growth_rate_calculating", "growth_rate")]
            if len(rates) < 30:
                return False
            peak = max(rates)
            return (
                peak > 0.3
                and rates.index(peak) < len(rates) - 10
                and statistics.mean(rates[-3:]) < 0.2 * peak
            )

        wait_for(rose_and_fell, 60, 0.2, what="growth rate to rise and fall")
        points = _series(unit, "growth_rate_calculating", "growth_rate")
        assert all(set(p) == {"growth_rate", "timestamp"} for p in points)
        rates = [p["growth_rate"] for p in points]
        peak = max(rates)
        top = rates.index(peak)
        assert 0.3 < peak < 0.9  # h⁻¹, a believable bacterial culture
        assert statistics.mean(rates[:3]) < 0.5 * peak  # it rose (out of the lag phase) ...
        assert top >= 5
        assert statistics.mean(rates[-3:]) < 0.2 * peak  # ... and fell (stationary phase)
        unit.observer.wait_log(unit.prefix, "Initializing growth-rate filter from warmup observations.")
        filtered = _series(unit, "growth_rate_calculating", "od_filtered")
        assert all(set(p) == {"od_filtered", "timestamp"} for p in filtered)
        assert filtered[-1]["od_filtered"] > 10 * filtered[0]["od_filtered"]  # normalised OD grew ~30x


def test_chemostat_dosing_dilutes_the_culture(tmp_path: Path, mqtt_broker: Broker) -> None:
    with pio_unit("sim", tmp_path / "u", "sim-dosing", "exp-dosing", mqtt_broker, speed=600) as unit:
        unit.start_ready("od_reading")
        wait_for(lambda: len(_series(unit, "od_reading", "ods")) >= 5, 10, what="five OD readings")
        baseline = statistics.mean(p["ods"]["2"]["od"] for p in _series(unit, "od_reading", "ods"))
        unit.start_ready(
            "dosing_automation",
            "--automation-name",
            "chemostat",
            "--duration",
            "1",
            "--exchange-volume-ml",
            "7",
        )
        events_topic = f"{unit.prefix}/dosing_events"
        wait_for(lambda: len(unit.observer.values(events_topic)) >= 6, 15, what="three media exchanges")
        events = [json.loads(v) for v in unit.observer.values(events_topic)]
        assert {e["event"] for e in events} == {"add_media", "remove_waste"}
        assert all(set(e) == {"volume_change", "event", "source_of_event", "timestamp"} for e in events)
        assert (
            events[0]["volume_change"] == 7.0
            and events[0]["source_of_event"] == "dosing_automation:chemostat"
        )
        count = len(_series(unit, "od_reading", "ods"))
        wait_for(
            lambda: len(_series(unit, "od_reading", "ods")) > count + 2, 10, what="readings after dosing"
        )
        latest = _series(unit, "od_reading", "ods")[-1]["ods"]["2"]["od"]
        assert latest < 0.5 * baseline  # each exchange keeps 2/3 of the culture
        event = json.loads(unit.retained_settings("dosing_automation")["latest_event"])
        assert event["event_name"] == "DilutionEvent"


def test_sim_job_is_ready_quickly(tmp_path: Path, mqtt_broker: Broker) -> None:
    with pio_unit("sim", tmp_path / "u", "sim-fast", "exp-fast", mqtt_broker) as unit:
        started = time.monotonic()
        proc = unit.start_ready("stirring")
        elapsed = time.monotonic() - started
        assert elapsed < 1.5, f"pio-sim took {elapsed:.2f}s to reach ready"  # ~0.2 s on an idle machine
        proc.kill(15)
        assert unit.exited(proc) == 0


def test_stop_while_settings_pour_in_does_not_hang(tmp_path: Path, mqtt_broker: Broker) -> None:
    with pio_unit("sim", tmp_path / "u", "sim-storm", "exp-storm", mqtt_broker) as unit:
        proc = unit.start_ready("stirring")
        topic = unit.topic("stirring", "target_rpm") + "/set"
        for i in range(300):
            unit.observer.client.publish(topic, str(100 + i), qos=1)
            if i == 150:
                proc.kill(15)
        assert unit.exited(proc, timeout=10) == 0
        assert unit.states("stirring")[-1] == "disconnected"
        assert unit.registry("stirring")[0]["is_running"] == 0


def test_one_shot_actions_dose_and_set_leds_then_exit(tmp_path: Path, mqtt_broker: Broker) -> None:
    """`pio run add_media --ml=1` (the agent's `--key=value` form) and `led_intensity --A=50`: real pio's
    dosing event and LED message, a log line each, and exit 0 without being stopped."""
    with pio_unit("sim", tmp_path / "u", "sim-act", "exp-act", mqtt_broker, speed=10) as unit:
        done = unit.cli("run", "add_media", "--ml=1", "--source-of-event=UI")
        assert done.returncode == 0, done.stderr
        events_topic, leds_topic = f"{unit.prefix}/dosing_events", f"{unit.prefix}/leds/intensity"
        wait_for(lambda: unit.observer.values(events_topic), 10, what="the dosing event")
        events = [json.loads(v) for v in unit.observer.values(events_topic)]
        assert [(e["event"], e["volume_change"], e["source_of_event"]) for e in events] == [
            ("add_media", 1.0, "UI")
        ]
        unit.observer.wait_log(unit.prefix, "Adding 1.0 mL media.")
        assert unit.cli("run", "remove_waste", "--duration=2").returncode == 0
        unit.observer.wait_log(unit.prefix, "Removing waste for 2.0s.")
        assert unit.cli("run", "led_intensity", "--A=50", "--C=5").returncode == 0
        wait_for(lambda: unit.observer.values(leds_topic), 10, what="the LED intensities")
        leds = json.loads(unit.observer.values(leds_topic)[-1])
        assert leds == {"A": 50.0, "B": 0.0, "C": 5.0, "D": 0.0}
        unit.observer.wait_log(unit.prefix, "Updated LED A from 0% to 50%.")
        assert unit.cli("run", "add_media").returncode == 2  # neither --ml nor --duration
        assert unit.cli("run", "led_intensity", "--A=101").returncode == 2

"""The simulated jobs: stirring, od_reading, growth_rate_calculating, monitor (automations: automations.py).

Each publishes the settings real pio 26.11.1 publishes (names, datatypes, units, read-only or not) and
readings in the real payload shapes. Biology and automation schedules run PIO_SIM_SPEED times faster
than the wall clock; stirring and monitor chatter run at wall speed.
"""

from __future__ import annotations

import json
import threading
import time
from typing import Any

from .actions import ACTIONS
from .automations import DosingAutomation, LEDAutomation, TemperatureAutomation
from .culture import Culture, GrowthRateEstimator, seeded_rng
from .env import PIO_VERSION, UNIVERSAL_EXPERIMENT
from .job import Job
from .self_test import SelfTest
from .values import Setting, reading_timestamp


class Stirring(Job):
    name = "stirring"
    settings = {
        "target_rpm": Setting("float", True, "RPM"),
        "measured_rpm": Setting("MeasuredRPM", False, "RPM"),
        "duty_cycle": Setting("float", True, "%"),
        "enable_dodging_od": Setting("boolean", True),
        "currently_dodging_od": Setting("boolean", False),
    }

    def on_init(self) -> None:
        cfg = self.env
        rpm = self.options.get("target_rpm")
        self.target = float(
            rpm if rpm is not None else cfg.getfloat("stirring.config", "initial_target_rpm", 500.0)
        )
        dc = self.options.get("duty_cycle")
        self.initial_dc = float(
            dc if dc is not None else cfg.getfloat("stirring.config", "initial_duty_cycle", 15)
        )
        self.rng = seeded_rng("stirring", self.unit)
        use_rpm = self.options.get("use_rpm")
        self.log(
            "DEBUG",
            "Operating with RPM feedback loop." if use_rpm in (None, True) else "Operating without RPM.",
        )
        self.log("DEBUG", "Dodging disabled; running continuously.")
        self.set("currently_dodging_od", False)
        self.set("enable_dodging_od", bool(self.options.get("enable_dodging_od") or False))
        self.claim_pwm(17)  # PWM channel 1 (stirring) on HAT 1.2
        self.set("target_rpm", self.target)
        self.set("duty_cycle", self.initial_dc)
        self.every(lambda: 5.0, self.measure)

    def measure(self) -> None:
        rpm = round(self.values["target_rpm"] * (1 + self.rng.gauss(0, 0.004)), 1)
        self.set("measured_rpm", {"measured_rpm": rpm, "timestamp": reading_timestamp()})

    def on_ready(self) -> None:
        if self.values.get("duty_cycle") == 0.0:
            self.set("duty_cycle", self.initial_dc)
        self.measure()

    def on_sleeping(self) -> None:
        self.set("duty_cycle", 0.0)
        self.set("measured_rpm", {"measured_rpm": 0, "timestamp": reading_timestamp()})

    def set_target_rpm(self, value: float) -> None:
        self.set("target_rpm", value)


class ODReading(Job):
    name = "od_reading"
    settings = {
        "first_od_obs_time": Setting("float", False),
        "ir_led_intensity": Setting("float", True, "%"),
        "interval": Setting("float", True, "s"),
        "relative_intensity_of_ir_led": Setting("json", False),
        "ods": Setting("ODReadings", False),
        **{f"od{i}": Setting("ODReading", False) for i in range(1, 5)},
    }

    def on_init(self) -> None:
        self.culture = Culture(self.unit)
        self.volume_ml = self.env.getfloat("bioreactor", "initial_volume_ml", 14.0)
        self.culture_lock = threading.Lock()
        self.readings = 0
        self.last = time.monotonic()
        interval = self.options.get("interval")
        sps = self.env.getfloat("od_reading.config", "samples_per_second", 0.2)
        ir = self.options.get("ir_led_intensity")
        self.set("ir_led_intensity", float(ir) if ir is not None else 85.0)
        self.set("interval", float(interval) if interval is not None else round(1.0 / sps, 6))
        self.set("first_od_obs_time", time.time())
        assert self.link
        self.link.subscribe(f"pioreactor/{self.unit}/{self.experiment}/dosing_events", self.on_dosing)
        self.every(lambda: self.sim_interval(float(self.values["interval"])), self.read)

    def _advance(self) -> None:
        now = time.monotonic()
        self.culture.advance((now - self.last) * self.env.speed / 3600.0)
        self.last = now

    def on_dosing(self, message: Any) -> None:
        event = json.loads(message.payload)
        if str(event.get("event", "")).startswith("add"):
            with self.culture_lock:
                self._advance()
                self.culture.dilute(float(event.get("volume_change", 0.0)), self.volume_ml)

    def read(self) -> None:
        with self.culture_lock:
            self._advance()
            od = self.culture.reading()
        stamp = reading_timestamp()
        one = {
            "calibrated": 0,
            "timestamp": stamp,
            "angle": "90",
            "od": od,
            "channel": "2",
            "ir_led_intensity": self.values["ir_led_intensity"],
        }
        self.set("ods", {"timestamp": stamp, "ods": {"2": one}})
        self.set("od2", one)
        self.readings += 1
        if self.readings >= 3:  # real pio reports the IR LED's drift from its third reading on
            drift = {
                "relative_intensity_of_ir_led": 0.0995 + self.culture.noise.gauss(0, 2e-5),
                "timestamp": stamp,
            }
            self.set("relative_intensity_of_ir_led", drift)
        if self.options.get("snapshot"):
            self._request_stop("snapshot")

    def after_ready(self) -> None:
        if "ods" not in self.values:  # the first reading comes right away, later ones every interval
            self.read()


class GrowthRateCalculating(Job):
    name = "growth_rate_calculating"
    settings = {
        "growth_rate": Setting("GrowthRate", False, "h⁻¹"),
        "od_filtered": Setting("ODFiltered", False),
    }

    def on_init(self) -> None:
        samples = int(self.env.getfloat("growth_rate_calculating.config", "samples_for_od_statistics", 35))
        self.estimator = GrowthRateEstimator(samples)
        self.set("growth_rate", None)
        self.set("od_filtered", None)
        assert self.link
        self.link.subscribe(self.topic("ods", job="od_reading"), self.on_ods)
        self.link.subscribe(f"pioreactor/{self.unit}/{self.experiment}/dosing_events", self.on_dose)
        self._announced = False

    def after_ready(self) -> None:
        if not self._announced and self.estimator.warming_up:
            self._announced = True
            self.log("INFO", "Collecting warmup OD observations for growth-rate initialization.")

    def on_ods(self, message: Any) -> None:
        if self.state != "ready" or not message.payload:
            return
        reading = json.loads(message.payload)
        ods = reading.get("ods") or {}
        if not ods:
            return
        od = float(next(iter(ods.values()))["od"])
        warming_up = self.estimator.warming_up
        result = self.estimator.add(time.time() * self.env.speed / 3600.0, od)
        if warming_up and not self.estimator.warming_up:
            self.log("INFO", "Initializing growth-rate filter from warmup observations.")
        if result is not None:
            stamp = reading.get("timestamp") or reading_timestamp()
            self.set("growth_rate", {"growth_rate": result[0], "timestamp": stamp})
            self.set("od_filtered", {"od_filtered": result[1], "timestamp": stamp})

    def on_dose(self, message: Any) -> None:
        self.estimator.after_dose()


class Monitor(Job):
    name = "monitor"
    long_running = True
    settings = {
        "computer_statistics": Setting("json", False),
        "button_down": Setting("boolean", False),
        "versions": Setting("json", True),
        "voltage_on_pwm_rail": Setting("Voltage", False),
        "ipv4": Setting("string", False),
        "wlan_mac_address": Setting("string", False),
        "eth_mac_address": Setting("string", False),
    }

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.experiment = UNIVERSAL_EXPERIMENT
        self._flickered = False

    def on_init(self) -> None:
        rng = seeded_rng("mac", self.unit)
        mac = ":".join(f"{rng.randrange(256):02x}" for _ in range(5))
        versions = {
            "app": PIO_VERSION,
            "hat": "1.2",
            "firmware": "0.5",
            "hat_serial": "00000000-0000-0000-0000-000000000000",
            "rpi_machine": "",
            "timestamp": reading_timestamp(),
        }
        self.set("versions", versions)
        self.set("button_down", False)
        self._mac = mac
        self.every(lambda: 60.0, self.stats)

    def stats(self) -> None:
        self.set(
            "computer_statistics",
            {"available_disk_space": 78.9, "cpu_temperature_celcius": 22, "timestamp": reading_timestamp()},
        )

    def on_ready(self) -> None:
        if self._flickered:
            return
        self._flickered = True
        self.set("ipv4", "127.0.0.1")
        self.set("wlan_mac_address", f"{self._mac}:59")
        self.set("eth_mac_address", f"{self._mac}:60")
        self.stats()
        # real monitor blinks its "okay" LED (~3.5 s), then says so and republishes its state
        if self._stop.wait(3.5):
            return
        self.set("state", "ready")
        self.log("NOTICE", "Online and ready.")


JOBS: dict[str, type[Job]] = {
    cls.name: cls
    for cls in (
        Stirring,
        ODReading,
        GrowthRateCalculating,
        TemperatureAutomation,
        DosingAutomation,
        LEDAutomation,
        Monitor,
        SelfTest,
    )
}
JOBS.update(ACTIONS)  # the one-shot actions (add_media, led_intensity ...)

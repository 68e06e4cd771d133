"""The automations: `--automation-name` picks a variant whose `--key value` arguments become settings.

Names, settings and start-up messages are real pio 26.11.1's; the control loops are simple stand-ins
(a first-order heater, a chemostat that exchanges media every `duration` simulated minutes, a
turbidostat that exchanges when OD passes `target_biomass`).
"""

from __future__ import annotations

import json
from typing import Any

from .culture import seeded_rng
from .job import Job
from .values import Setting, cast, reading_timestamp


class Automation(Job):
    """--automation-name picks a variant; its extra `--key value` arguments become its settings."""

    automations: dict[str, dict[str, Setting]] = {}
    required: dict[str, tuple[str, ...]] = {}  # the real classes' required __init__ arguments
    defaults: dict[str, dict[str, str]] = {}

    def validate(self) -> None:
        name = self.options["automation_name"]
        if name not in self.automations:
            raise KeyError(f"Unable to find {name}. Available automations are {sorted(self.automations)}")
        missing = [f"'{arg}'" for arg in self.required.get(name, ()) if arg not in self.options["extra"]]
        if missing:  # worded as Python words it for the real class
            cls = "PIDMorbidostat" if name == "pid_morbidostat" else name.title().replace("_", "")
            listed = (
                " and ".join(missing)
                if len(missing) <= 2
                else ", ".join(missing[:-1]) + ", and " + missing[-1]
            )
            plural = "s" if len(missing) > 1 else ""
            raise TypeError(
                f"{cls}.__init__() missing {len(missing)} required positional argument{plural}: {listed}"
            )

    def on_init(self) -> None:
        name = self.automation = self.options["automation_name"]
        self.log("INFO", f"Starting {name}.")
        self.add_setting("automation_name", Setting("string", False), name)
        self.add_setting("latest_event", Setting("AutomationEvent", False), None)
        for key, spec in self.automations[name].items():
            raw = self.options["extra"].get(key, self.defaults.get(name, {}).get(key))
            if raw is not None:
                self.add_setting(key, spec, cast(str(raw).encode(), spec.datatype))
            else:
                self.spec[key] = spec

    def event(self, event_name: str, message: str, data: dict[str, Any] | None = None) -> None:
        payload = {
            "event_name": event_name,
            "message": message,
            "data": data,
            "timestamp": reading_timestamp(),
        }
        self.set("latest_event", payload)
        self.log("INFO", f"{event_name}: {message}")


class TemperatureAutomation(Automation):
    name = "temperature_automation"
    automations = {
        "only_record_temperature": {},
        "thermostat": {"target_temperature": Setting("float", True, "℃")},
    }
    required = {"thermostat": ("target_temperature",)}
    AMBIENT = 22.3

    def on_init(self) -> None:
        super().on_init()
        self.add_setting("temperature", Setting("Temperature", False, "℃"))
        self.add_setting("heater_duty_cycle", Setting("float", False, "%"), 0.0)
        self.claim_pwm(18)  # PWM channel 5 (heating) on HAT 1.2
        self.rng = seeded_rng("temperature", self.unit)
        self.temp = self.AMBIENT + self.rng.uniform(-0.5, 0.5)
        self.every(lambda: self.sim_interval(60.0), self.sample)

    def on_ready(self) -> None:
        if self.automation == "thermostat" and not self.running("stirring"):
            self.log("WARNING", "It's recommended to have stirring on when using the thermostat.")
        self.sample()

    def sample(self) -> None:
        target = self.values.get("target_temperature")
        goal = self.AMBIENT if target is None else max(float(target), self.AMBIENT)
        self.temp += (goal - self.temp) * 0.15 + self.rng.gauss(0, 0.03)
        self.set("temperature", {"timestamp": reading_timestamp(), "temperature": self.temp})
        if target is not None:
            dc = round(min(max((goal - self.temp) * 8.0, 0.0), 100.0), 2)
            self.set("heater_duty_cycle", dc)
            self.event("UpdatedHeaterDC", f"delta_dc={dc}", {"current_dc": dc, "target_temperature": target})


class DosingAutomation(Automation):
    name = "dosing_automation"
    automations = {
        "chemostat": {
            "duration": Setting("float", True, "min"),
            "exchange_volume_ml": Setting("float", True, "mL"),
        },
        "fed_batch": {
            "duration": Setting("float", True, "min"),
            "dosing_volume_ml": Setting("float", True, "mL"),
        },
        "pid_morbidostat": {
            "duration": Setting("float", True, "min"),
            "target_normalized_od": Setting("float", True, "AU"),
            "target_growth_rate": Setting("float", True, "h⁻¹"),
        },
        "silent": {},
        "turbidostat": {
            "exchange_volume_ml": Setting("float", True, "mL"),
            "target_biomass": Setting("float", True, "OD/AU"),
            "biomass_signal": Setting("string", True),
        },
    }

    required = {
        "chemostat": ("exchange_volume_ml",),
        "fed_batch": ("dosing_volume_ml",),
        "pid_morbidostat": ("target_growth_rate", "target_normalized_od"),
        "turbidostat": ("exchange_volume_ml",),
    }
    defaults = {
        "chemostat": {"duration": "20"},
        "fed_batch": {"duration": "720"},
        "pid_morbidostat": {"duration": "60"},
    }

    def on_init(self) -> None:
        super().on_init()
        volume = self.env.getfloat("bioreactor", "initial_volume_ml", 14.0)
        volumes = f"current_volume_ml={volume:.2f} mL, efflux_tube_volume_ml={volume:.2f} mL"
        self.log("DEBUG", f"Volume settings initialized: {volumes}.")
        self.bioreactor = {
            "alt_media_fraction": self.env.getfloat("bioreactor", "initial_alt_media_fraction", 0.0),
            "efflux_tube_volume_ml": volume,
            "current_volume_ml": volume,
        }
        self.publish_bioreactor()
        if not self.running("stirring"):
            self.log(
                "WARNING", "It's recommended to have stirring on to improve mixing during dosing events."
            )
        if "duration" in self.values:
            self.every(lambda: self.sim_interval(float(self.values["duration"]) * 60.0), self.dose)
        if self.automation == "turbidostat":
            assert self.link
            self.link.subscribe(self.topic("ods", job="od_reading"), self.on_ods)

    def publish_bioreactor(self) -> None:
        """Retained vial state under …/bioreactor/, kept after the job stops (as real pio keeps it)."""
        assert self.link
        for name, value in self.bioreactor.items():
            payload = {"timestamp": reading_timestamp(), "value": value}
            self.link.publish(f"pioreactor/{self.unit}/{self.experiment}/bioreactor/{name}", payload, 1, True)

    def dose(self) -> None:
        volume = float(self.values.get("exchange_volume_ml") or self.values.get("dosing_volume_ml") or 0.5)
        source = f"{self.name}:{self.automation}"
        for event, change in (("add_media", volume), ("remove_waste", volume)):
            payload = {
                "volume_change": change,
                "event": event,
                "source_of_event": source,
                "timestamp": reading_timestamp(),
            }
            assert self.link
            self.link.publish(f"pioreactor/{self.unit}/{self.experiment}/dosing_events", payload, qos=1)
        self.event("DilutionEvent", f"exchanged {volume}mL", {"volume": volume})
        self.publish_bioreactor()  # media in, the same volume out: the vial's state stays the same

    def on_ods(self, message: Any) -> None:
        if self.state != "ready" or not message.payload:
            return
        od = float(next(iter(json.loads(message.payload)["ods"].values()))["od"])
        target = self.values.get("target_biomass")
        if target is not None and od >= float(target):
            self.dose()


class LEDAutomation(Automation):
    name = "led_automation"
    automations = {
        "light_dark_cycle": {
            "light_intensity": Setting("float", True, "%"),
            "light_duration_minutes": Setting("float", True, "min"),
            "dark_duration_minutes": Setting("float", True, "min"),
        },
        "silent": {},
    }
    required = {"light_dark_cycle": ("light_intensity", "light_duration_minutes", "dark_duration_minutes")}

"""Real pio's one-shot actions: `add_media`, `remove_waste`, `add_alternative_media` (by `--ml` or
`--duration`) and `led_intensity` (`--A 50 --B 0 ...`), with their arguments, logs and MQTT messages.

Like real pio (managed_lifecycle) each registers in the job registry, goes init -> ready, does its work
and exits 0: a dose publishes a `dosing_events` message and pumps for its duration at wall speed divided
by PIO_SIM_SPEED; LED intensities are published on `leds/intensity`. Difference: no pump calibration is
needed (1 mL per second, Pioreactor's uncalibrated default), where real pio refuses `--ml` without one.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import click

from .job import Job
from .values import reading_timestamp

ML_PER_SECOND = 1.0
CHANNELS = ("A", "B", "C", "D")
_WHAT = {"add_media": "media", "add_alternative_media": "alt-media", "remove_waste": "waste"}


class _OneShot(Job):
    def after_ready(self) -> None:
        threading.Thread(target=self._work_then_exit, name=f"{self.name}-work", daemon=True).start()

    def _work_then_exit(self) -> None:
        try:
            self.work()
        except Exception as e:  # real pio logs the error and the process still ends
            self.log("ERROR", str(e))
        self._request_stop("done")

    def work(self) -> None:
        raise NotImplementedError


class Dose(_OneShot):
    def validate(self) -> None:
        ml, duration = self.options.get("ml"), self.options.get("duration")
        if ml is None and duration is None:
            raise click.UsageError("either ml or duration must be set")
        if ml is not None and duration is not None:
            raise click.UsageError("Only select ml or duration")

    def work(self) -> None:
        given_ml, given_s = self.options.get("ml"), self.options.get("duration")
        what = _WHAT[self.name]
        verb = "Removing" if self.name == "remove_waste" else "Adding"
        if given_ml is not None:
            ml = float(given_ml)
            duration = ml / ML_PER_SECOND
            self.log("INFO", f"{verb} {round(ml, 3)} mL {what}.")
        else:
            duration = float(given_s or 0.0)
            ml = duration * ML_PER_SECOND
            self.log("INFO", f"{verb} {what} for {round(duration, 2)}s.")
        assert self.link
        event = {
            "volume_change": ml,
            "event": self.name,
            "source_of_event": self.options.get("source_of_event") or "CLI",
            "timestamp": reading_timestamp(),
        }
        self.link.publish(f"pioreactor/{self.unit}/{self.experiment}/dosing_events", event, qos=2)
        self._stop.wait(duration / self.env.speed)


class LedIntensity(_OneShot):
    name = "led_intensity"

    def work(self) -> None:
        assert self.link
        wanted = {ch: float(v) for ch in CHANNELS if (v := self.options.get(ch)) is not None}
        # real pio keeps the LEDs' last intensities in its cache; a file of the unit's own here
        path = Path(self.env.dot_pioreactor) / "storage" / "sim_led_intensity.json"
        state = {ch: 0.0 for ch in CHANNELS}
        if path.is_file():
            state |= json.loads(path.read_text())
        for ch, value in wanted.items():
            self.log("INFO", f"Updated LED {ch} from {state[ch]:g}% to {value:g}%.")
        state |= wanted
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(state))
        self.link.publish(
            f"pioreactor/{self.unit}/{self.experiment}/leds/intensity", state, qos=1, retain=True
        )


def _dose_class(job_name: str) -> type[Dose]:
    return type(f"Dose_{job_name}", (Dose,), {"name": job_name})


ACTIONS: dict[str, type[Job]] = {
    **{name: _dose_class(name) for name in _WHAT},
    "led_intensity": LedIntensity,
}


def commands(run_job: Any) -> list[click.Command]:
    """The `pio run <action>` commands, calling the CLI's own job runner."""
    made = []
    for name in _WHAT:

        @click.command(name=name, short_help=f"{name.replace('_', ' ')} (one shot)")
        @click.option("--ml", type=click.FLOAT)
        @click.option("--duration", type=click.FLOAT)
        @click.option("--continuously", is_flag=True, help="continuously run until stopped.")
        @click.option("--manually", is_flag=True, help="The media is manually added (don't run pumps)")
        @click.option("--source-of-event", default="CLI", type=str)
        def dose(_name: str = name, **options: Any) -> None:
            run_job(_name, **options)

        made.append(dose)

    @click.command(name="led_intensity", short_help="set the LED intensities (percent)")
    @click.option("--A", "A", type=click.FloatRange(0, 100))
    @click.option("--B", "B", type=click.FloatRange(0, 100))
    @click.option("--C", "C", type=click.FloatRange(0, 100))
    @click.option("--D", "D", type=click.FloatRange(0, 100))
    @click.option("--source-of-event", default="CLI", type=str)
    def led_intensity(**options: Any) -> None:
        run_job("led_intensity", **options)

    made.append(led_intensity)
    return made

"""The lifecycle every simulated job shares, modelled on real pio's BackgroundJob (26.11.1).

start:  registry check (already running -> warning log, JobPresentError, exit 1) -> register row ->
        connect with last will `lost` -> $state init -> job settings -> listen to …/+/set -> $state ready
run:    the foreground waits; periodic work runs in threads while the state is `ready`
stop:   SIGTERM/SIGHUP -> exit 0, $state/set disconnected -> exit 0, SIGINT (and `pio kill`) -> exit 1
        "Aborted!"; every way clears the job's non-persistent retained settings and ends its row.
        SIGKILL leaves the row running and the broker publishes the last will.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import sys
import threading
from collections.abc import Callable
from typing import Any, ClassVar

from . import signals
from .env import SimEnv
from .mqtt import QOS_SETTING, Link
from .registry import Registry
from .values import STATES, Setting, cast, log_timestamp, with_units


class JobPresentError(Exception):
    pass


class PWMError(OSError):
    pass


class Abort(Exception):
    """The job was interrupted (SIGINT): the CLI reports it as click does, `Aborted!` and exit 1."""


class Job:
    name: ClassVar[str]
    long_running: ClassVar[bool] = False
    settings: ClassVar[dict[str, Setting]] = {}

    def __init__(self, env: SimEnv, **options: Any):
        self.env = env
        self.unit = env.unit
        self.experiment = env.experiment
        self.options = options
        self.state = "init"
        self.values: dict[str, Any] = {}
        self.spec: dict[str, Setting] = {**self.settings, "state": Setting("string", True, persist=True)}
        self.job_id: int | None = None
        self.link: Link | None = None
        self._stop = threading.Event()
        self._stop_reason: int | str | None = None
        self._lock = threading.RLock()
        self._threads: list[threading.Thread] = []
        self._pins: list[tuple[int, str]] = []
        self._closed = False
        self.registry: Registry  # opened by run(), closed by the shutdown

    # ---- topics, logs, settings -------------------------------------------------------------
    def topic(self, *rest: str, job: str | None = None) -> str:
        return "/".join(("pioreactor", self.unit, self.experiment, job or self.name, *rest))

    def log(self, level: str, message: str) -> None:
        stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S+0000")
        print(f"{stamp} {level:<6} [{self.name}] {message}", file=sys.stderr, flush=True)
        if self.link:
            payload = {
                "source": "app",
                "task": self.name,
                "message": message,
                "level": level,
                "timestamp": log_timestamp(),
            }
            self.link.publish(f"pioreactor/{self.unit}/{self.experiment}/logs/app/{level.lower()}", payload)

    def set(self, setting: str, value: Any) -> None:
        """Assign a published setting: retained on the broker and mirrored in the registry, like real pio."""
        with self._lock:
            if self._closed:
                return  # a periodic reading racing the shutdown must not re-add what was cleared
            self.values[setting] = value
            if setting == "state":
                self.state = value
            name = "$state" if setting == "state" else setting
            if self.link:
                self.link.publish(self.topic(name), value, qos=QOS_SETTING, retain=True)
            if self.job_id is not None:
                self.registry.upsert_setting(self.job_id, name, value)

    def add_setting(self, setting: str, spec: Setting, value: Any = None) -> None:
        self.spec[setting] = spec
        self.set(setting, value)

    # ---- hooks for subclasses -----------------------------------------------------------------
    def validate(self) -> None:
        """Raise (before anything is registered) when options cannot start this job."""

    def on_init(self) -> None:
        """Publish the job's settings and start-up logs."""

    def on_ready(self) -> None:
        pass

    def after_ready(self) -> None:
        """Runs after the `Ready.` log (for follow-up messages real jobs log after it)."""

    def on_sleeping(self) -> None:
        pass

    def on_disconnected(self) -> None:
        pass

    def every(self, wall_seconds: Callable[[], float], work: Callable[[], None]) -> None:
        """Run `work` periodically while ready; the interval is re-read each time (settings change it)."""

        def loop() -> None:
            while not self._stop.wait(max(wall_seconds(), 0.01)):
                if self.state == "ready":
                    try:
                        work()
                    except Exception as e:
                        self.log("ERROR", str(e))

        thread = threading.Thread(target=loop, name=f"{self.name}-periodic", daemon=True)
        self._threads.append(thread)
        thread.start()

    def claim_pwm(self, pin: int) -> None:
        """Lock a PWM pin as real pio does; a SIGKILLed job leaves its lock behind."""
        owner = f"{os.getpid()}:{id(self)}"
        with self._lock:
            if not self.registry.lock_pin(pin, owner):
                msg = (
                    f"GPIO-{pin} is currently locked but a task is overwriting it. Either too many jobs are "
                    "trying to access this pin, or a job didn't clean up properly. If your confident you can "
                    f"release it, use `pio cache purge pwm_locks {pin} --as-int` on the command line for "
                    f"`{self.unit}`."
                )
                self.log("ERROR", msg)
                raise PWMError(msg)
        self._pins.append((pin, owner))

    def sim_interval(self, sim_seconds: float) -> float:
        """Wall seconds for a simulated period, never below PIO_SIM_MIN_INTERVAL (a fast simulation
        samples coarser instead of flooding the broker)."""
        return max(sim_seconds / self.env.speed, self.env.min_interval)

    def running(self, job_name: str) -> bool:
        with self._lock:
            return self.registry.running_job_id(job_name) is not None

    # ---- state machine --------------------------------------------------------------------------
    def set_state(self, new: str) -> None:
        with self._lock:
            if new not in STATES:
                self.log("ERROR", f"saw {new}: not a valid state")
                return
            if new == self.state or self.state == "disconnected":
                return
            if new == "disconnected":
                self._request_stop("mqtt")
                return
            self.set("state", new)
            if new == "sleeping":
                self.on_sleeping()
                self.log("DEBUG", "Sleeping.")
            elif new == "ready":
                self.on_ready()
                if self._stop.is_set():
                    return  # a signal cut on_ready short: real pio never gets to log "Ready."
                self.log("INFO", "Ready.")
                self.after_ready()
            elif new == "init":
                self.log("DEBUG", "Init.")

    def _on_set(self, message: Any) -> None:
        attr = message.topic.split("/")[4].lstrip("$")
        if attr not in self.spec:
            self.log("DEBUG", f"Unable to set `{attr}` in {self.name}. `{attr}` is not a published_setting.")
            return
        spec = self.spec[attr]
        if not spec.settable:
            self.log("WARNING", f"Unable to set `{attr}` in {self.name}. `{attr}` is read-only.")
            return
        try:
            new = cast(message.payload, spec.datatype)
        except (TypeError, ValueError):
            invalid = f"Payload is not valid for datatype `{spec.datatype}`."
            self.log("WARNING", f"Unable to set `{attr}` in {self.name}. {invalid}")
            return
        previous: Any = self.state if attr == "state" else self.values.get(attr)
        if attr == "state":
            self.set_state(new)
            if new == "disconnected":
                return  # the foreground logs the change as it shuts down
            current: Any = self.state
        else:
            setter = getattr(self, f"set_{attr}", None)
            if setter:
                setter(new)
            else:
                self.set(attr, new)
            current = self.values.get(attr)
        self.log(
            "INFO",
            f"Updated {attr} from {with_units(previous, spec.unit)} to {with_units(current, spec.unit)}.",
        )

    def _republish(self) -> None:
        self.log("INFO", "Sub client reconnected to the MQTT broker on leader.")
        with self._lock:
            for name, value in list(self.values.items()):
                if value is not None and self.link:
                    topic = self.topic("$state" if name == "state" else name)
                    self.link.publish(topic, value, qos=QOS_SETTING, retain=True)

    def _request_stop(self, reason: int | str) -> None:
        if self._stop_reason is None:
            self._stop_reason = reason
        self._stop.set()

    # ---- the foreground ------------------------------------------------------------------------
    def run(self) -> None:
        """Start, block until stopped, clean up. Raises Abort on SIGINT, JobPresentError on a duplicate."""
        # the watcher thread asks for the stop; a handler setting `_stop` could deadlock in `_stop.wait`
        watcher = signals.watch((signal.SIGTERM, signal.SIGINT, signal.SIGHUP))
        watcher.on_signal(self._request_stop)
        self.validate()
        host, port = self.env.broker
        self.registry = registry = Registry(self.env.registry_path)
        present = registry.running_job_id(self.name)
        if present is not None:
            registry.close()
            self._refuse(host, port, present)
        self.job_id = registry.register(
            self.unit,
            self.experiment,
            self.name,
            os.environ.get("JOB_SOURCE", "user"),
            os.getpid(),
            self.env.leader,
            self.long_running,
        )
        try:
            self._start(host, port)
            while not self._stop.wait(0.5):
                pass
        finally:
            self._shutdown()
            watcher.settle()
        if self._stop_reason == signal.SIGINT:
            raise Abort()

    def _refuse(self, host: str, port: int, job_id: int) -> None:
        message = f"{self.name} is already running (job_id={job_id}). Skipping."
        link = Link(host, port, f"{self.name}-pub-{self.unit}-{self.experiment}-{os.getpid()}")
        try:
            link.connect()
            self.link = link
        except ConnectionError:
            pass
        self.log("WARNING", message)
        if self.link:
            self.link.close()
            self.link = None
        raise JobPresentError(message)

    def _start(self, host: str, port: int) -> None:
        link = Link(
            host,
            port,
            f"{self.name}-sim-{self.unit}-{self.experiment}-{os.getpid()}",
            (self.topic("$state"), "lost"),
        )
        try:
            link.connect()
        except ConnectionError as e:
            self.log("ERROR", str(e))
            raise
        self.link = link
        link.on_reconnect = self._republish
        self.set("state", "init")
        self.log("DEBUG", "Init.")
        self.on_init()
        link.subscribe(self.topic("+", "set"), self._on_set)
        link.subscribe(f"pioreactor/$broadcast/{self.experiment}/{self.name}/+/set", self._on_set)
        if not self._stop.is_set():
            self.set_state("ready")

    def _shutdown(self) -> None:
        reason = self._stop_reason
        if isinstance(reason, int):
            self.log("DEBUG", f"Exiting caused by signal {signal.strsignal(reason)}.")
        self._stop.set()
        with self._lock:
            previous = self.state
            if self.link:
                try:
                    self.on_disconnected()
                except Exception as e:
                    self.log("DEBUG", f"Error in on_disconnected: {e}")
                self.set("state", "disconnected")
                self.log("INFO", "Disconnected.")
                if reason == "mqtt":
                    self.log("INFO", f"Updated state from {previous} to disconnected.")
                for name, value in list(self.values.items()):
                    if not self.spec.get(name, Setting("", False)).persist and value is not None:
                        self.link.publish(self.topic(name), None, retain=True)
            reg = self.registry
            if self.job_id is not None:
                for name, value in self.values.items():
                    if not self.spec.get(name, Setting("", False)).persist and value is not None:
                        reg.upsert_setting(self.job_id, name, None)
                reg.set_not_running(self.job_id)
            for pin, owner in self._pins:
                reg.unlock_pin(pin, owner)
            if self.link:
                self.log("DEBUG", "Disconnected successfully from MQTT.")
            link, self.link = self.link, None
            self._closed = True
            reg.close()
        # outside the lock: paho's network thread may be waiting for it inside a `…/set` callback,
        # and closing waits for that thread
        if link:
            link.close()
        for thread in self._threads:
            thread.join(1.0)

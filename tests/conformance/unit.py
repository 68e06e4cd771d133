"""A test's handle on one unit (real pio or pio-sim): run CLI commands, start jobs, watch its MQTT."""

from __future__ import annotations

import os
import sqlite3
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from devcluster.broker import Broker
from devcluster.procs import Proc, wait_for
from devcluster.units import make_real_unit, make_sim_unit, unit_paths

from .observer import Observer, retained


class PioUnit:
    def __init__(self, impl: str, root: Path, unit: str, experiment: str, broker: Broker, **sim: Any):
        self.impl, self.unit, self.experiment, self.broker = impl, unit, experiment, broker
        make = make_real_unit if impl == "real" else make_sim_unit
        self.pio = make(root, unit, broker.host, broker.port, experiment=experiment, **sim)
        self.paths = unit_paths(root)
        self.logdir = root / "logs"
        self.env = {"EXPERIMENT": experiment}
        self.procs: list[Proc] = []
        self.observer = Observer(broker.host, broker.port, f"pioreactor/{unit}/#")

    @property
    def prefix(self) -> str:
        return f"pioreactor/{self.unit}/{self.experiment}"

    def topic(self, job: str, setting: str, experiment: str | None = None) -> str:
        return f"pioreactor/{self.unit}/{experiment or self.experiment}/{job}/{setting}"

    def cli(self, *args: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(self.pio), *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            env={**os.environ, **self.env},
        )

    def start(self, *args: str, run_options: tuple[str, ...] = ()) -> Proc:
        """`pio run [run_options] JOB [args]` in the background."""
        log = self.logdir / f"{'-'.join(args)[:60]}-{len(self.procs)}.log"
        proc = Proc([str(self.pio), "run", *run_options, *args], log, env=self.env)
        self.procs.append(proc)
        return proc

    def start_ready(
        self, job: str, *args: str, experiment: str | None = None, run_options: tuple[str, ...] = ()
    ) -> Proc:
        state = self.topic(job, "$state", experiment)
        before = self.observer.values(state).count("ready")
        proc = self.start(job, *args, run_options=run_options)
        wait_for(
            lambda: self.observer.values(state).count("ready") > before or not proc.alive(),
            30,
            what=f"{job} ready on {self.impl}",
        )
        assert proc.alive(), f"{job} exited early:\n{proc.output()[-3000:]}"
        return proc

    def exited(self, proc: Proc, timeout: float = 15) -> int:
        wait_for(lambda: not proc.alive(), timeout, what="job process to exit")
        self.observer.sync(f"pioreactor/{self.unit}/observer-sync")
        code = proc.popen.returncode
        assert code is not None
        return code

    def states(self, job: str, experiment: str | None = None) -> list[str]:
        return self.observer.values(self.topic(job, "$state", experiment))

    def retained(self) -> dict[str, str]:
        return retained(self.broker.host, self.broker.port, f"pioreactor/{self.unit}/#")

    def retained_settings(self, job: str, experiment: str | None = None) -> dict[str, str]:
        head = f"pioreactor/{self.unit}/{experiment or self.experiment}/{job}/"
        return {t.removeprefix(head): v for t, v in self.retained().items() if t.startswith(head)}

    def publish(self, job: str, setting: str, value: str, experiment: str | None = None) -> None:
        info = self.observer.client.publish(self.topic(job, setting, experiment) + "/set", value, qos=1)
        info.wait_for_publish(5)

    def registry(self, job: str) -> list[dict[str, Any]]:
        with sqlite3.connect(self.paths.registry) as conn:
            conn.row_factory = sqlite3.Row
            rows = conn.execute("SELECT * FROM pio_job_metadata WHERE job_name=? ORDER BY job_id", (job,))
            return [dict(r) for r in rows]

    def registry_settings(self, job: str) -> dict[str, Any]:
        """pio_job_published_settings of the job's latest run (what `pio jobs info` shows)."""
        with sqlite3.connect(self.paths.registry) as conn:
            rows = conn.execute(
                "SELECT setting, value FROM pio_job_published_settings WHERE job_id ="
                " (SELECT MAX(job_id) FROM pio_job_metadata WHERE job_name=?)",
                (job,),
            )
            return dict(rows.fetchall())

    def close(self) -> None:
        for proc in self.procs:
            proc.stop()
        self.observer.close()


@contextmanager
def pio_unit(
    impl: str, root: Path, unit: str, experiment: str, broker: Broker, **sim: Any
) -> Iterator[PioUnit]:
    handle = PioUnit(impl, root, unit, experiment, broker, **sim)
    try:
        yield handle
    finally:
        handle.close()

"""The MQTT side of bench/load.py: `mosquitto_pub -l` at QoS 1 fed at a paced rate, and what got stored.

Not a bench of its own (`make bench` runs bench/load.py, which uses it).
"""

from __future__ import annotations

import contextlib
import sqlite3
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

from loadgen import iso

from devcluster.cluster import Cluster
from devcluster.procs import wait_for


class Publisher:
    """`mosquitto_pub -l` at QoS 1, fed lines at a paced rate: logs of unit `load1`, readings of `load2`."""

    def __init__(self, cluster: Cluster, binary: str, rate: float, workdir: Path, experiment: str) -> None:
        assert cluster.broker is not None
        self.db_path = cluster.leader_dir / "leader.sqlite"
        self.rate = 0.0
        self.target = rate
        self.logs_sent = self.readings_sent = 0
        self.lag_ms: list[float] = []
        self.last_sent = 0.0
        self._stop = threading.Event()
        args = [
            binary,
            "-h",
            cluster.broker.host,
            "-p",
            str(cluster.broker.port),
            "-q",
            "1",
            "-M",
            "2000",
            "-l",
        ]
        self.procs = {
            kind: subprocess.Popen(
                [*args, "-i", f"load-{kind}", "-t", topic],
                stdin=subprocess.PIPE,
                stdout=subprocess.DEVNULL,
                stderr=open(workdir / f"mosquitto_pub-{kind}.txt", "wb"),  # noqa: SIM115 (closed with the process)
            )
            for kind, topic in (
                ("logs", f"pioreactor/load1/{experiment}/logs/app/info"),
                ("readings", f"pioreactor/load2/{experiment}/growth_rate_calculating/growth_rate"),
            )
        }
        self._feeder = threading.Thread(target=self._feed, daemon=True)
        self._sampler = threading.Thread(target=self._sample, daemon=True)

    def start(self) -> None:
        self._t0 = time.monotonic()
        self._feeder.start()
        self._sampler.start()

    def _feed(self) -> None:
        logs, readings = self.procs["logs"].stdin, self.procs["readings"].stdin
        assert logs is not None and readings is not None
        sent, tick = 0, 0.01
        while not self._stop.is_set():
            due = int((time.monotonic() - self._t0) * self.target)
            now = time.time()
            log_lines, reading_lines = [], []
            for seq in range(sent, due):
                if seq % 10 == 9:  # one message in ten is a reading, one per millisecond of its own time
                    self.readings_sent += 1
                    ts = iso(self._t0_wall + self.readings_sent / 1000)
                    reading_lines.append(f'{{"growth_rate": {seq % 7 / 10}, "timestamp": "{ts}"}}\n')
                else:
                    self.logs_sent += 1
                    line = (
                        f'{{"task":"load","message":"seq={seq}","level":"INFO","timestamp":"{iso(now)}"}}\n'
                    )
                    log_lines.append(line)
            sent = max(sent, due)
            logs.write("".join(log_lines).encode())
            readings.write("".join(reading_lines).encode())
            logs.flush()
            readings.flush()
            self.last_sent = now
            self._stop.wait(tick)  # the pacing tick
        self.rate = sent / max(1e-9, time.monotonic() - self._t0)

    @property
    def _t0_wall(self) -> float:
        # readings' timestamps: a fixed grid from the start, so each is unique (the store's key)
        if not hasattr(self, "_wall"):
            self._wall = time.time()
        return self._wall

    def _query(self, sql: str) -> Any:
        db = sqlite3.connect(f"file:{self.db_path}?mode=ro", uri=True, timeout=10)
        try:
            return db.execute(sql).fetchone()[0]
        finally:
            db.close()

    def _sample(self) -> None:
        while not self._stop.wait(0.25):
            newest = self._query("SELECT max(ts) FROM logs WHERE unit = 'load1'")
            if newest:
                self.lag_ms.append(max(0.0, time.time() * 1000 - newest))

    def finish(self) -> None:
        self._stop.set()
        self._feeder.join(10)
        self._sampler.join(10)
        for proc in self.procs.values():
            assert proc.stdin is not None
            proc.stdin.close()
        for proc in self.procs.values():
            proc.wait(120)  # exits once the broker acknowledged every QoS-1 message

    def stored(self) -> int:
        return int(self._query("SELECT count(*) FROM logs WHERE unit = 'load1'"))

    def readings_stored(self) -> int:
        return int(self._query("SELECT count(*) FROM readings WHERE unit = 'load2'"))

    def wait_stored(self, timeout: float) -> float:
        """Seconds from the last message sent until every acknowledged log is stored."""
        with contextlib.suppress(TimeoutError):  # reported as stored < published
            wait_for(lambda: self.stored() >= self.logs_sent, timeout, 0.1, "every log stored")
        return time.time() - self.last_sent

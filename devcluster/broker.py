"""A real MQTT broker: mosquitto on a free port, or amqtt (embedded) when no mosquitto binary exists."""

from __future__ import annotations

import shutil
import sys
import textwrap
from pathlib import Path

from .procs import Proc, free_port, port_open, wait_for

MOSQUITTO = shutil.which("mosquitto") or next(
    (p for p in ("/usr/sbin/mosquitto", "/usr/local/sbin/mosquitto") if Path(p).exists()), None
)


class Broker:
    """Restartable broker. Persistence is on so QoS-1 sessions survive a restart (ingest tests need it)."""

    def __init__(self, workdir: Path, port: int | None = None, *, embedded: bool | None = None):
        self.host = "127.0.0.1"
        self.port = port or free_port()
        self.workdir = workdir
        self.embedded = not MOSQUITTO if embedded is None else embedded
        self.kind = "amqtt (embedded; no mosquitto binary found)" if self.embedded else "mosquitto"
        self.proc: Proc | None = None
        workdir.mkdir(parents=True, exist_ok=True)

    @property
    def url(self) -> str:
        return f"mqtt://{self.host}:{self.port}"

    def _argv(self) -> list[str]:
        if not self.embedded and MOSQUITTO:
            conf = self.workdir / "mosquitto.conf"
            # Running as root, mosquitto would drop to the `mosquitto` user and fail to write here;
            # the queue/in-flight limits are raised deliberately (defaults drop QoS-1 bursts).
            conf.write_text(
                textwrap.dedent(f"""\
                    user root
                    listener {self.port} 127.0.0.1
                    allow_anonymous true
                    persistence true
                    persistence_location {self.workdir}/
                    autosave_interval 1
                    max_queued_messages 200000
                    max_inflight_messages 0
                    queue_qos0_messages true
                    max_keepalive 3600
                    log_dest stdout
                    log_type error
                    log_type warning
                    """)
            )
            return [MOSQUITTO, "-c", str(conf)]
        return [sys.executable, str(Path(__file__).with_name("embedded_broker.py")), str(self.port)]

    def start(self) -> Broker:
        self.proc = Proc(self._argv(), self.workdir / "broker.log")
        wait_for(lambda: port_open(self.host, self.port) or not self.proc.alive(), 10, what="broker port")  # type: ignore[union-attr]
        if not self.proc.alive():
            raise RuntimeError(f"broker failed to start:\n{self.proc.output()}")
        return self

    def stop(self) -> None:
        if self.proc:
            self.proc.stop()
            self.proc = None

    def restart(self) -> None:
        self.stop()
        self.start()

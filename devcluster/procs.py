"""Start a process, wait for it with a deadline, always clean it up; what its process group costs in CPU."""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")


_GIVEN: set[int] = set()  # never the same port twice from one process (two servers asked for in a row)


def _ephemeral_low() -> int:
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def free_port() -> int:
    """A port nobody listens on, for a server started next. Chosen below the kernel's ephemeral range:
    bind(0) and every outgoing connection take their ports from that range, so between this answer and the
    server's bind no client socket (a 1,000-unit fan-out test opens as many) can take the port."""
    low = _ephemeral_low()
    for _ in range(200 if low > 11000 else 0):
        port = 10000 + secrets.randbelow(low - 10000)  # from the OS: xdist workers pick differently
        if port in _GIVEN:
            continue
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue  # in use (or lingering): try another
            _GIVEN.add(port)
            return port
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def group_cpu(pgids: set[int]) -> float:
    """CPU seconds (user + system) of every live process in these process groups (a Proc's is its pid)."""
    total, tick = 0.0, os.sysconf("SC_CLK_TCK")
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # ended meanwhile
        if int(fields[2]) in pgids:
            total += (int(fields[11]) + int(fields[12])) / tick
    return total


def wait_for(
    predicate: Callable[[], T], timeout: float = 10.0, interval: float = 0.02, what: str = "condition"
) -> T:
    """Poll until predicate() is truthy; fail with `what` after the deadline. Never a bare sleep."""
    deadline = time.monotonic() + timeout
    last: T | None = None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(interval)
    raise TimeoutError(f"timed out after {timeout:.1f}s waiting for {what} (last value: {last!r})")


def port_open(host: str, port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex((host, port)) == 0


def http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as resp:  # noqa: S310 (loopback test URL)
            return 200 <= resp.status < 300
    except (urllib.error.URLError, OSError):
        return False


class Proc:
    """A child process in its own process group with its output in a log file."""

    def __init__(
        self, argv: Sequence[str], log: Path, env: dict[str, str] | None = None, cwd: Path | None = None
    ):
        self.argv = list(argv)
        self.log = log
        log.parent.mkdir(parents=True, exist_ok=True)
        self._out = open(log, "ab")  # noqa: SIM115 (closed in stop)
        self.popen = subprocess.Popen(
            self.argv,
            stdout=self._out,
            stderr=subprocess.STDOUT,
            env={**os.environ, **(env or {})},
            cwd=cwd,
            start_new_session=True,
        )

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def output(self) -> str:
        self._out.flush()
        return self.log.read_text(errors="replace")

    def kill(self, sig: int = signal.SIGKILL) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.popen.pid, sig)

    def stop(self, timeout: float = 5.0) -> int | None:
        """SIGTERM the group, then SIGKILL after the deadline."""
        if self.alive():
            self.kill(signal.SIGTERM)
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill(signal.SIGKILL)
                self.popen.wait(5)
        else:
            # the leader may be gone while its children (a group) live on
            self.kill(signal.SIGKILL)
        self._out.close()
        return self.popen.returncode


@contextlib.contextmanager
def running(
    argv: Sequence[str],
    log: Path,
    *,
    health_url: str | None = None,
    port: int | None = None,
    env: dict[str, str] | None = None,
    timeout: float = 20.0,
) -> Iterator[Proc]:
    proc = Proc(argv, log, env)
    try:
        if health_url or port:

            def ready() -> bool:
                if not proc.alive():
                    raise RuntimeError(
                        f"{argv[0]} exited with {proc.popen.returncode}:\n{proc.output()[-3000:]}"
                    )
                return http_ok(health_url) if health_url else port_open("127.0.0.1", port or 0)

            wait_for(ready, timeout, 0.05, f"{argv[0]} to be ready")
        yield proc
    finally:
        proc.stop()

"""A tiny real HTTP agent speaking the `/unit_api` task contract, for fan-out and API tests.

It runs a ThreadingHTTPServer on a free port in a thread of the test process. Behaviour per unit is set by
attributes (delay, job result state, settings echo) so tests can make one unit slow, failing or gone.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import socket
import struct
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from devcluster.procs import free_port


class Behaviour:
    """What a stand-in agent answers, whatever serves it (StandIn's threads, standin_host's event loop)."""

    def __init__(self, unit: str, token: str, *, delay: float = 0.0, task_time: float = 0.0) -> None:
        self.unit, self.token = unit, token
        self.delay = delay  # before answering any request
        self.task_time = task_time  # a task's result is pending this long
        self.run_state = "ready"
        self.not_echoed: list[str] = []
        self.running: dict[str, dict[str, Any]] = {}  # job -> settings
        self.files: dict[str, str] = {}
        self.tasks: dict[str, tuple[float, Any]] = {}
        self.requests: list[tuple[str, str]] = []
        self.bodies: list[tuple[str, str, Any]] = []  # (method, path, decoded JSON body) of each request
        self.peers: set[int] = set()  # client ports: one per TCP connection
        self.resets = 0  # the next this many requests are read, then their connection is reset (RST)

    def handle(self, method: str, path: str, authorization: str | None, body: Any) -> tuple[int, Any]:
        """One request (its decoded JSON body, or None), once its delay has passed: (status, answer)."""
        if authorization != f"Bearer {self.token}":
            return 401, {"error": "unauthorized", "message": "bad token"}
        return self.answer(method, path, body or {})

    def _task(self, result: Any) -> tuple[int, Any]:
        task_id = uuid.uuid4().hex
        self.tasks[task_id] = (time.monotonic() + self.task_time, result)
        return 202, {
            "task_id": task_id,
            "unit": self.unit,
            "result_url_path": f"/unit_api/task_results/{task_id}",
        }

    def answer(self, method: str, path: str, body: dict[str, Any]) -> tuple[int, Any]:
        parts = path.strip("/").split("/")[1:]
        if method == "GET" and parts == ["versions"]:
            return 200, {"agent": "standin", "pio": "0", "python": "3", "schema": 1}
        if method == "GET" and parts[:1] == ["task_results"]:
            if parts[1] not in self.tasks:
                return 404, {"status": "unknown"}
            ready_at, result = self.tasks[parts[1]]
            if time.monotonic() < ready_at:
                return 202, {"status": "pending"}
            return 200, {"status": "complete", "result": result}
        if method == "POST" and parts[:4] == ["jobs", "run", "job_name", parts[3] if len(parts) > 3 else ""]:
            job = parts[3]
            state = "already_running" if job in self.running else self.run_state
            if state == "ready":
                self.running[job] = dict(body.get("options", {}))
            return self._task(
                {"job_name": job, "state": state, "pid": 1234, "output_tail": "boom" * (state == "failed")}
            )
        if method == "POST" and parts == ["jobs", "stop"]:
            job = body.get("job_name")
            stopped = [j for j in self.running if job in (None, j)]
            for j in stopped:
                del self.running[j]
            return self._task({"stopped": stopped, "not_running": not stopped})
        if method == "PATCH" and parts[:3] == ["jobs", "settings", "job_name"]:
            if parts[3] not in self.running:  # like a real agent: nothing to change
                return 404, {
                    "error": "not_found",
                    "message": f"Job `{parts[3]}` is not running on this unit.",
                }
            settings = body["settings"]
            echoed = {k: v for k, v in settings.items() if k not in self.not_echoed}
            self.running.setdefault(parts[3], {}).update(echoed)
            return self._task({"echoed": echoed, "not_echoed": [k for k in settings if k in self.not_echoed]})
        if method == "GET" and parts == ["jobs", "running"]:
            return 200, [
                {
                    "job_id": i,
                    "job_name": j,
                    "experiment": "exp",
                    "job_source": "user",
                    "pid": 1,
                    "started_at": None,
                }
                for i, j in enumerate(self.running)
            ]
        if method == "GET" and parts[:3] == ["jobs", "settings", "job_name"]:
            return 200, {"settings": self.running.get(parts[3], {})}
        if method == "PUT" and parts[:1] == ["config"]:
            self.files[parts[1]] = body["content"]
            digest = hashlib.sha256(body["content"].encode()).hexdigest()
            return 200, {"name": parts[1], "content": body["content"], "sha256": digest}
        if method == "PUT" and parts == ["cluster_token"]:
            self.token = body["token"]  # what the contract asks of an agent: trust the new token from now on
            return 200, {"ok": True}
        if method == "POST" and parts[:1] == ["system"]:
            return self._task({"command": ["echo", parts[1]], "exit_code": 0, "dry_run": True})
        return 404, {"error": "not_found", "message": path}


class StandIn(Behaviour):
    """One stand-in on a ThreadingHTTPServer of its own (a thread per connection), in the test process."""

    def __init__(
        self, unit: str, token: str, *, delay: float = 0.0, task_time: float = 0.0, poll: float = 0.02
    ) -> None:
        super().__init__(unit, token, delay=delay, task_time=task_time)
        self.sockets: set[socket.socket] = set()
        self.port = free_port()
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), self._handler())
        self.server.daemon_threads = True
        self.server.block_on_close = False  # keep-alive handler threads must not hold up stop()
        self.thread = threading.Thread(target=self.server.serve_forever, args=(poll,), daemon=True)

    def start(self) -> StandIn:
        self.thread.start()
        return self

    def stop(self) -> None:
        """Like a stopped process: no listener, and open keep-alive connections are closed."""
        self.server.shutdown()
        self.server.server_close()
        for sock in list(self.sockets):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        standin = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, like gunicorn
            disable_nagle_algorithm = (
                True  # headers and body go out as two writes; no 40 ms delayed-ACK stall
            )

            def log_message(self, *args: Any) -> None:
                pass

            def setup(self) -> None:
                super().setup()
                standin.sockets.add(self.connection)

            def finish(self) -> None:
                standin.sockets.discard(self.connection)
                with contextlib.suppress(OSError):
                    super().finish()

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                standin.requests.append((self.command, self.path))
                body = json.loads(raw) if raw else None
                standin.bodies.append((self.command, self.path, body))
                standin.peers.add(self.client_address[1])
                if standin.resets > 0:  # like an agent that crashed holding the request: no answer, a RST
                    standin.resets -= 1
                    self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    os.close(self.connection.detach())  # now: the server's shutdown would send a FIN first
                    self.close_connection = True
                    return
                if standin.delay:
                    time.sleep(standin.delay)  # the stand-in's simulated work, not a test wait
                status, data = standin.handle(
                    self.command, self.path, self.headers.get("Authorization"), body
                )
                out = json.dumps(data).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(out)))
                    self.end_headers()
                    self.wfile.write(out)
                except (BrokenPipeError, ConnectionResetError):
                    self.close_connection = True  # the client gave up (a deadline); nothing to tell it

            do_GET = do_POST = do_PATCH = do_PUT = _serve

        return Handler

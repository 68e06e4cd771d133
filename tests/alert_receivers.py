"""Local receivers for alert deliveries: a webhook (http.server) and an SMTP server (socketserver), each on a
free loopback port in a thread of the test process. Use them as context managers.

    with Webhook() as hook:            # hook.url; hook.status = 500 to fail, hook.hang = True to hang
        ...; hook.wait_for(lambda bodies: ...)
    with SmtpServer() as smtp:         # smtp.port; smtp.messages: list of email.message.Message
"""

from __future__ import annotations

import email
import json
import socketserver
import threading
from collections.abc import Callable
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from devcluster.procs import wait_for


class Webhook:
    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []  # every POST received, answered or not
        self.status = 200
        self.hang = False
        self._release = threading.Event()
        self._lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.server.block_on_close = False
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.shown = f"http://127.0.0.1:{self.server.server_address[1]}/…"  # as /api/alerts shows it

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
                with hook._lock:
                    hook.bodies.append(body)
                if hook.hang:
                    hook._release.wait(60)
                    return
                self.send_response(hook.status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *_args: Any) -> None:
                pass

        return Handler

    def received(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self.bodies)

    def wait_for(self, predicate: Callable[[list[dict[str, Any]]], Any], timeout: float = 20.0) -> Any:
        return wait_for(lambda: predicate(self.received()), timeout, 0.05, "webhook bodies")

    def __enter__(self) -> Webhook:
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._release.set()
        self.server.shutdown()
        self.server.server_close()


class SmtpServer:
    """Just enough SMTP (EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT) to receive messages; it offers no
    STARTTLS, which the leader's `starttls = "auto"` accepts. `refuse = True` answers 554 to MAIL."""

    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.refuse = False
        self._lock = threading.Lock()
        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.port = int(self.server.server_address[1])

    def _handler(self) -> type[socketserver.StreamRequestHandler]:
        smtp = self

        class Handler(socketserver.StreamRequestHandler):
            def reply(self, text: str) -> None:
                self.wfile.write(text.encode() + b"\r\n")

            def handle(self) -> None:
                self.reply("220 localhost test SMTP")
                sender, rcpts = "", []
                while line := self.rfile.readline():
                    cmd = line.decode("utf-8", "replace").strip()
                    verb = cmd[:4].upper()
                    if verb in ("EHLO", "HELO"):
                        self.reply("250-localhost\r\n250 8BITMIME" if verb == "EHLO" else "250 localhost")
                    elif verb == "MAIL":
                        if smtp.refuse:
                            self.reply("554 no thanks")
                            continue
                        sender, rcpts = cmd.split(":", 1)[1].strip(" <>"), []
                        self.reply("250 ok")
                    elif verb == "RCPT":
                        rcpts.append(cmd.split(":", 1)[1].strip(" <>"))
                        self.reply("250 ok")
                    elif verb == "DATA":
                        self.reply("354 go ahead")
                        data = b""
                        while (chunk := self.rfile.readline()) not in (b".\r\n", b""):
                            data += chunk[1:] if chunk.startswith(b"..") else chunk
                        with smtp._lock:
                            smtp.messages.append(email.message_from_bytes(data))
                            smtp.envelopes.append((sender, rcpts))
                        self.reply("250 queued")
                    elif verb in ("RSET", "NOOP"):
                        self.reply("250 ok")
                    elif verb == "QUIT":
                        self.reply("221 bye")
                        return
                    else:
                        self.reply("502 not implemented")

        return Handler

    def received(self) -> list[Message]:
        with self._lock:
            return list(self.messages)

    def __enter__(self) -> SmtpServer:
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

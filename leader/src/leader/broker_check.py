"""The setup wizard's "broker reachable" step: connect to MQTT_URL with the leader's own credentials, wait
for the broker's CONNACK, disconnect, and say ok or why not — within a few seconds, never longer.

A separate short-lived client (clean session, a random id) so the check never disturbs the ingest's
persistent session.
"""

from __future__ import annotations

import secrets
import socket
import time
from typing import Any
from urllib.parse import urlparse

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from cluster_schema.rollout import BrokerCheck

CHECK_SECONDS = 5.0


def check(url: str, timeout: float = CHECK_SECONDS) -> BrokerCheck:
    parts = urlparse(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 1883
    started = time.monotonic()

    def answer(ok: bool, reason: str = "") -> BrokerCheck:
        ms = int((time.monotonic() - started) * 1000)
        return BrokerCheck(
            ok=ok, broker=f"{host}:{port}", username=parts.username, reason=reason, duration_ms=ms
        )

    client_id = f"leader-setup-check-{secrets.token_hex(4)}"
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=True)
    if parts.username:
        client.username_pw_set(parts.username, parts.password)
    client.connect_timeout = timeout
    outcome: dict[str, Any] = {}

    def on_connect(_c: Any, _u: Any, _flags: Any, reason_code: Any, _props: Any) -> None:
        outcome["code"] = reason_code

    client.on_connect = on_connect
    try:
        client.connect(host, port, keepalive=max(5, int(timeout)))
    except TimeoutError:
        return answer(False, f"no connection to {host}:{port} within {timeout:.0f} s (firewall? wrong host?)")
    except ConnectionRefusedError:
        return answer(False, f"{host}:{port} refused the connection: is the broker running on that port?")
    except socket.gaierror as exc:
        return answer(False, f"unknown host {host!r} ({exc.strerror})")
    except OSError as exc:
        return answer(False, f"cannot reach {host}:{port}: {exc.strerror or exc}")
    try:
        deadline = started + timeout
        while "code" not in outcome and time.monotonic() < deadline:
            rc = client.loop(timeout=0.1)
            if rc != mqtt.MQTT_ERR_SUCCESS and "code" not in outcome:
                why = mqtt.error_string(rc)
                return answer(False, f"the connection closed before the broker accepted it ({why})")
        code = outcome.get("code")
        if code is None:
            return answer(False, f"the broker at {host}:{port} did not answer the MQTT handshake in time")
        if code.is_failure:
            who = f" as {parts.username!r}" if parts.username else " without a user name"
            return answer(False, f"the broker refused the leader{who}: {code}")
        return answer(True)
    finally:
        client.disconnect()  # closes the socket too (no network loop thread was started)

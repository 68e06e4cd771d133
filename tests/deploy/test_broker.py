"""mosquitto started from the files the broker role renders (password file made by mosquitto_passwd, ACL):
a unit publishes under its own name, cannot under another unit's (seen from the leader's subscription,
since an MQTT 3.1.1 publisher is never told), and a wrong password is refused."""

from __future__ import annotations

import pwd
import shutil
import subprocess
import sys
import tempfile
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

import pytest
from paho.mqtt import client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from devcluster.procs import Proc, free_port, port_open, wait_for

from .harness import playbook, require

pytestmark = pytest.mark.deploy

ACCOUNTS = {
    "leader": "broker-leader-Q9w8e7r6",
    "pio01": "broker-pio01-A1s2d3f4",
    "pio02": "broker-pio02-Z5x6c7v8",
}


class Client:
    """A paho client that records its CONNACK and every message it receives."""

    def __init__(self, port: int, user: str, password: str, ca: Path | None = None):
        self.connected = threading.Event()
        self.reason: mqtt.ReasonCode | None = None
        self.messages: list[tuple[str, bytes]] = []
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"{user}-{uuid.uuid4().hex[:6]}")
        self.client.username_pw_set(user, password)
        if ca is not None:
            self.client.tls_set(ca_certs=str(ca))
        self.client.on_connect = self._on_connect
        self.client.on_message = lambda _c, _u, msg: self.messages.append((msg.topic, msg.payload))
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()
        wait_for(self.connected.is_set, 10, what=f"CONNACK for {user}")

    def _on_connect(self, _c: object, _u: object, _f: object, reason: mqtt.ReasonCode, _p: object) -> None:
        self.reason = reason
        self.connected.set()

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


class Ports(NamedTuple):
    plain: int
    tls: int
    ca: Path  # the TLS listener's self-signed certificate


@pytest.fixture(scope="module")
def broker() -> Iterator[Ports]:
    require("ansible-playbook", "mosquitto", "mosquitto_passwd")
    if not shutil.which("mosquitto") or not _user_exists("mosquitto"):
        pytest.skip("no `mosquitto` user on this machine (mosquitto's package creates it)")
    # mosquitto drops from root to its own user before reading its files: every folder on the way must be
    # traversable, which pytest's private temporary folders are not.
    with tempfile.TemporaryDirectory(prefix="deploy-broker-") as tmp:
        base = Path(tmp)
        base.chmod(0o755)
        port, tls_port = free_port(), free_port()
        # the optional TLS listener on too: a self-signed certificate mosquitto's user can read
        cert, key = base / "cert.pem", base / "key.pem"
        subprocess.run(
            [
                *("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"),
                *("-nodes", "-keyout", str(key), "-out", str(cert), "-days", "1", "-subj", "/CN=broker"),
                *("-addext", "subjectAltName=IP:127.0.0.1"),
            ],
            capture_output=True,
            check=True,
        )
        for path in (cert, key):
            shutil.chown(path, "mosquitto", "mosquitto")
        play = base / "broker.yml"
        play.write_text("---\n- name: Broker\n  hosts: all\n  roles:\n    - role: broker\n")
        vars_ = {
            "ansible_connection": "local",
            "ansible_python_interpreter": sys.executable,
            # every path of the role pointed into the temporary folder (the root stays "/")
            "broker_manage_services": False,
            "broker_conf_dir": f"{base}/etc/mosquitto",
            "broker_persistence_dir": f"{base}/var/lib/mosquitto",
            "broker_systemd_dir": f"{base}/etc/systemd/system",
            "broker_listen_address": "127.0.0.1",
            "broker_port": port,
            "broker_passwords": ACCOUNTS,
            "broker_tls_port": tls_port,
            "broker_tls_certfile": str(cert),
            "broker_tls_keyfile": str(key),
        }
        for parent in ("etc", "var", "var/lib"):
            (base / parent).mkdir(mode=0o755, exist_ok=True)
        run = playbook(play, "localhost,", vars_, base / "work")
        assert run.rc == 0, run.output[-4000:]
        for secret in ACCOUNTS.values():
            assert secret not in run.output
        proc = Proc(["mosquitto", "-c", f"{base}/etc/mosquitto/mosquitto.conf"], base / "mosquitto.log")
        try:
            listening = [("127.0.0.1", port), ("127.0.0.1", tls_port)]
            wait_for(lambda: all(port_open(*a) for a in listening) or not proc.alive(), 10, what="mosquitto")
            assert proc.alive(), proc.output()
            yield Ports(port, tls_port, cert)
        finally:
            proc.stop()


def _user_exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


def test_a_unit_writes_only_under_its_own_name(broker: Ports) -> None:
    leader = Client(broker.plain, "leader", ACCOUNTS["leader"])
    unit = Client(broker.plain, "pio01", ACCOUNTS["pio01"])
    try:
        assert leader.reason is not None and not leader.reason.is_failure
        assert unit.reason is not None and not unit.reason.is_failure
        leader.client.subscribe("pioreactor/#", qos=1)
        # the subscription is in place once the leader hears itself
        leader.client.publish("pioreactor/leader/probe", b"probe", qos=1)
        wait_for(lambda: any(p == b"probe" for _t, p in leader.messages), 10, what="the subscription")
        unit.client.publish("pioreactor/pio01/exp1/od_reading/od1", b"own", qos=1).wait_for_publish(5)
        unit.client.publish("pioreactor/pio02/exp1/stirring/$state/set", b"cross", qos=1).wait_for_publish(5)
        unit.client.publish("pioreactor/pio01/exp1/done", b"end", qos=1).wait_for_publish(5)
        # QoS 1 from one publisher arrives in order: once `end` is here, `cross` would have been too
        wait_for(lambda: any(p == b"end" for _t, p in leader.messages), 10, what="the last message")
        payloads = [p for _t, p in leader.messages]
        assert b"own" in payloads and b"cross" not in payloads
        # the leader itself may write under any unit (settings, commands)
        leader.client.publish("pioreactor/pio02/exp1/stirring/$state/set", b"from-leader", qos=1)
        wait_for(lambda: any(p == b"from-leader" for _t, p in leader.messages), 10, what="leader's message")
    finally:
        leader.close()
        unit.close()


def test_a_wrong_password_is_refused(broker: Ports) -> None:
    intruder = Client(broker.plain, "pio01", ACCOUNTS["pio02"])
    try:
        assert intruder.reason is not None and intruder.reason.is_failure
    finally:
        intruder.close()
    stranger = Client(broker.plain, "nobody", "whatever-password")
    try:
        assert stranger.reason is not None and stranger.reason.is_failure
    finally:
        stranger.close()


def test_the_tls_listener_applies_the_same_accounts(broker: Ports) -> None:
    """broker_tls_certfile/keyfile: a second listener speaks TLS with the same password file (and ACL:
    per_listener_settings false)."""
    unit = Client(broker.tls, "pio01", ACCOUNTS["pio01"], ca=broker.ca)
    try:
        assert unit.reason is not None and not unit.reason.is_failure
    finally:
        unit.close()
    wrong = Client(broker.tls, "pio01", ACCOUNTS["pio02"], ca=broker.ca)
    try:
        assert wrong.reason is not None and wrong.reason.is_failure
    finally:
        wrong.close()
